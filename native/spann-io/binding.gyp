{
  "targets": [
    {
      "target_name": "spann_io",
      "sources": ["src/spann_io.c"],
      "cflags": ["-O2", "-fvisibility=hidden", "-std=gnu11"]
    }
  ]
}
