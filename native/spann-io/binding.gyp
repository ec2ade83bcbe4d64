{
  "variables": {
    # -march of the in-place scan kernels, as native/hnsw: "native" by default; set
    # RECSYS_NATIVE_MARCH (e.g. x86-64-v2) for an image that must run on other CPUs, "none" for
    # the compiler's default target.
    "recsys_march%": "<!(node -p \"process.env.RECSYS_NATIVE_MARCH || 'native'\")"
  },
  "targets": [
    {
      "target_name": "spann_io",
      "sources": ["src/spann_io.c"],
      # Reassociation lets the compiler vectorise the float sums (the vectors are finite: checked on insert).
      "cflags": ["-O3", "-fvisibility=hidden", "-std=gnu11", "-fno-math-errno", "-fassociative-math", "-fno-signed-zeros", "-fno-trapping-math"],
      "conditions": [["recsys_march!='none'", { "cflags": ["-march=<(recsys_march)"] }]]
    }
  ]
}
