#include <napi.h>

#include <string>

#include "kernels.h"

#ifndef RECSYS_MARCH
#define RECSYS_MARCH "unknown"
#endif

namespace {

using namespace recsys_sdim;

template <typename T>
T* Data(const Napi::TypedArray& a) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

Napi::TypedArray Arg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (!info[i].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a typed array");
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  if (a.TypedArrayType() != type) throw Napi::TypeError::New(info.Env(), std::string(what) + " has the wrong element type");
  return a;
}

int64_t Int(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  const double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<int64_t>(v))) throw Napi::RangeError::New(info.Env(), std::string(what) + " out of range");
  return static_cast<int64_t>(v);
}

// signatures(rt: Float64Array (d*m, transposed hyperplanes), m, tau, d, xs: Float32Array | Float64Array (n*d), out: Uint16Array (n*m/tau), bucketOffset: boolean)
Napi::Value SignaturesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray rt = Arg(info, 0, napi_float64_array, "rt");
  const int m = static_cast<int>(Int(info, 1, "m", 1, 65535));
  const int tau = static_cast<int>(Int(info, 2, "tau", 1, 8));
  const int d = static_cast<int>(Int(info, 3, "d", 1, 65535));
  if (m % tau) throw Napi::RangeError::New(env, "m must be a multiple of tau");
  if (!info[4].IsTypedArray()) throw Napi::TypeError::New(env, "xs must be a Float32Array or Float64Array");
  Napi::TypedArray xs = info[4].As<Napi::TypedArray>();
  Napi::TypedArray out = Arg(info, 5, napi_uint16_array, "out");
  const bool offset = info[6].ToBoolean();
  if (rt.ElementLength() != static_cast<size_t>(m) * d) throw Napi::RangeError::New(env, "rt must hold m * d values");
  if (xs.ElementLength() % d) throw Napi::RangeError::New(env, "xs length is not a multiple of d");
  const size_t n = xs.ElementLength() / d;
  if (out.ElementLength() < n * (m / tau)) throw Napi::RangeError::New(env, "out is too short");
  const float* x32 = nullptr;
  const double* x64 = nullptr;
  if (xs.TypedArrayType() == napi_float32_array) x32 = Data<float>(xs);
  else if (xs.TypedArrayType() == napi_float64_array) x64 = Data<double>(xs);
  else throw Napi::TypeError::New(env, "xs must be a Float32Array or Float64Array");
  Signatures(Data<double>(rt), m, tau, d, x32, x64, n, Data<uint16_t>(out), offset);
  return env.Undefined();
}

// gatherInterest(blob: Uint8Array, nonEmpty, countsOffset, sumsOffset, dtype, groups, buckets, d, sigs: Uint16Array (n*groups), mode (0 pooled, 1 none), out: Float64Array (n*d))
Napi::Value GatherJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray blob = Arg(info, 0, napi_uint8_array, "blob");
  const size_t nonEmpty = Int(info, 1, "nonEmpty", 0, 65536);
  const size_t countsOffset = Int(info, 2, "countsOffset", 0, 1LL << 40);
  const size_t sumsOffset = Int(info, 3, "sumsOffset", 0, 1LL << 40);
  const int dtype = static_cast<int>(Int(info, 4, "dtype", 1, 3));
  const int groups = static_cast<int>(Int(info, 5, "groups", 1, 65536));
  const int buckets = static_cast<int>(Int(info, 6, "buckets", 1, 256));
  const int d = static_cast<int>(Int(info, 7, "d", 1, 65535));
  Napi::TypedArray sigs = Arg(info, 8, napi_uint16_array, "sigs");
  const int mode = static_cast<int>(Int(info, 9, "mode", 0, 1));
  Napi::TypedArray out = Arg(info, 10, napi_float64_array, "out");
  const size_t width = dtype == 2 ? 8 : 4;
  if (blob.ByteLength() < sumsOffset + nonEmpty * d * width || countsOffset + 4 * nonEmpty > sumsOffset || 24 + 2 * nonEmpty > countsOffset) {
    throw Napi::RangeError::New(env, "blob is shorter than its layout");
  }
  if (sigs.ElementLength() % groups) throw Napi::RangeError::New(env, "sigs length is not a multiple of groups");
  const size_t n = sigs.ElementLength() / groups;
  if (out.ElementLength() < n * d) throw Napi::RangeError::New(env, "out is too short");
  const long bad = GatherInterest(Data<uint8_t>(blob), nonEmpty, countsOffset, sumsOffset, dtype, groups, buckets, d, Data<uint16_t>(sigs), n, mode, Data<double>(out));
  if (bad == -2) throw Napi::RangeError::New(env, "a signature is >= 2^tau");
  if (bad >= 0) throw Napi::RangeError::New(env, "bucket index " + std::to_string(bad) + " out of range");
  return env.Undefined();
}

// attention(q: Float32Array (n*d), x: Float32Array (L*d), d, out: Float32Array (n*d))
Napi::Value AttentionJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray q = Arg(info, 0, napi_float32_array, "q");
  Napi::TypedArray x = Arg(info, 1, napi_float32_array, "x");
  const int d = static_cast<int>(Int(info, 2, "d", 1, 65535));
  Napi::TypedArray out = Arg(info, 3, napi_float32_array, "out");
  if (q.ElementLength() % d || x.ElementLength() % d) throw Napi::RangeError::New(env, "q and x lengths must be multiples of d");
  const size_t n = q.ElementLength() / d;
  if (out.ElementLength() < n * d) throw Napi::RangeError::New(env, "out is too short");
  Attention(Data<float>(q), n, Data<float>(x), x.ElementLength() / d, d, Data<float>(out));
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("signatures", Napi::Function::New(env, SignaturesJs));
  exports.Set("gatherInterest", Napi::Function::New(env, GatherJs));
  exports.Set("attention", Napi::Function::New(env, AttentionJs));
  Napi::Object build = Napi::Object::New(env);
  build.Set("march", RECSYS_MARCH);
  build.Set("simd", SimdLevel());
  exports.Set("buildInfo", build);
  return exports;
}

}  // namespace

NODE_API_MODULE(sdim_native, Init)
