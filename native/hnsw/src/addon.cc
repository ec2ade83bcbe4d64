#include <napi.h>

#include "fast_search.h"
#include "hnsw_index.h"

#ifndef RECSYS_MARCH
#define RECSYS_MARCH "unknown"
#endif

namespace {

// Which of hnswlib's distance kernels this build compiled in (it picks the widest the CPU runs).
const char* SimdLevel() {
#if defined(USE_AVX512)
  return AVX512Capable() ? "avx512" : AVXCapable() ? "avx" : "sse";
#elif defined(USE_AVX)
  return AVXCapable() ? "avx" : "sse";
#elif defined(USE_SSE)
  return "sse";
#else
  return "scalar";
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("HierarchicalNSW", recsys::HnswIndex::Define(env));
  Napi::Object build = Napi::Object::New(env);
  build.Set("march", RECSYS_MARCH);
  build.Set("simd", SimdLevel());
  build.Set("hnswlib", "0.8.0");
  // Kernels of the unfiltered search path (fast_search.h); hnswlib's own serve filtered searches and builds.
  build.Set("searchSimd", RECSYS_FAST_SIMD);
  exports.Set("buildInfo", build);
  return exports;
}

}  // namespace

NODE_API_MODULE(hnsw_native, Init)
