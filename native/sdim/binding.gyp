{
  "variables": {
    # -march as native/hnsw: "native" (default) builds AVX2/AVX-512 code for this CPU; set
    # RECSYS_NATIVE_MARCH (e.g. x86-64-v3) for an image that must run elsewhere, "none" for the
    # compiler's default target.
    "recsys_march%": "<!(node -p \"process.env.RECSYS_NATIVE_MARCH || 'native'\")"
  },
  "targets": [
    {
      "target_name": "sdim_native",
      "sources": ["src/addon.cc", "src/sdim_kernels.cc", "src/attention.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "RECSYS_MARCH=\"<(recsys_march)\""],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # -ffp-contract=off: the SDIM kernels must round every product and every sum on its own, as
      # JavaScript does (a fused multiply-add would change signatures near a hyperplane). The
      # attention kernel (attention.cc) uses fused multiply-adds explicitly.
      "cflags_cc": ["-O3", "-fvisibility=hidden", "-ffp-contract=off", "-fno-math-errno"],
      "conditions": [
        ["recsys_march!='none'", { "cflags_cc": ["-march=<(recsys_march)"] }]
      ]
    }
  ]
}
