{
  "variables": {
    # -march for the distance kernels: "native" (default, as hnswlib's own setup.py does) builds
    # AVX/AVX-512 code for this CPU; set RECSYS_NATIVE_MARCH (e.g. x86-64-v2, x86-64-v3) for an
    # image that must run on other machines, or "none" for the compiler's default target.
    "recsys_march%": "<!(node -p \"process.env.RECSYS_NATIVE_MARCH || 'native'\")"
  },
  "targets": [
    {
      "target_name": "hnsw_native",
      "sources": ["src/addon.cc", "src/hnsw_index.cc", "src/io_workers.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "RECSYS_MARCH=\"<(recsys_march)\""],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # hnswlib as a system header: its own warnings are not ours to fix.
      "cflags_cc": ["-O3", "-fvisibility=hidden", "-isystem", "<(module_root_dir)/vendor"],
      "conditions": [
        ["recsys_march!='none'", { "cflags_cc": ["-march=<(recsys_march)"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-isystem", "<(module_root_dir)/vendor"]
          }
        }]
      ]
    }
  ]
}
