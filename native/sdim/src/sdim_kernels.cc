// Compiled with -ffp-contract=off (binding.gyp): every product and sum is rounded on its own.
#include <cstring>
#include <vector>

#include "kernels.h"

namespace recsys_sdim {

// The m accumulators of one vector live in registers when m is a compile-time constant (M > 0);
// two vectors share each load of the hyperplanes. Same operations in the same order either way.
template <int M>
static void SignaturesFixed(const double* __restrict rt, int m, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset) {
  const int mm = M > 0 ? M : m;
  const int groups = mm / tau;
  std::vector<double> scratch(M > 0 ? 0 : 2 * m);
  double fa[M > 0 ? 2 * M : 1];
  double* a = M > 0 ? fa : scratch.data();
  double* b = a + mm;
  for (size_t c = 0; c < n; c += 2) {
    const bool two = c + 1 < n;
    for (int i = 0; i < mm; i++) a[i] = b[i] = 0.0;
    for (int k = 0; k < d; k++) {
      const double u = xs32 ? static_cast<double>(xs32[c * d + k]) : xs64[c * d + k];
      const double w = two ? (xs32 ? static_cast<double>(xs32[(c + 1) * d + k]) : xs64[(c + 1) * d + k]) : 0.0;
      const double* r = rt + static_cast<size_t>(k) * mm;
      // One lane per hyperplane: a[i] = a[i] + r[i] * u, each hyperplane's sum in index order k.
      for (int i = 0; i < mm; i++) {
        a[i] += r[i] * u;
        b[i] += r[i] * w;
      }
    }
    for (int t = 0; t < (two ? 2 : 1); t++) {
      const double* acc = t ? b : a;
      uint16_t* o = out + (c + t) * groups;
      for (int j = 0; j < groups; j++) {
        int sig = 0;
        for (int bit = 0; bit < tau; bit++) sig |= (acc[j * tau + bit] > 0.0 ? 1 : 0) << bit;
        o[j] = static_cast<uint16_t>(bucketOffset ? sig + (j << tau) : sig);
      }
    }
  }
}

void Signatures(const double* rt, int m, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset) {
  switch (m) {
    case 48:
      return SignaturesFixed<48>(rt, m, tau, d, xs32, xs64, n, out, bucketOffset);
    case 32:
      return SignaturesFixed<32>(rt, m, tau, d, xs32, xs64, n, out, bucketOffset);
    case 64:
      return SignaturesFixed<64>(rt, m, tau, d, xs32, xs64, n, out, bucketOffset);
    default:
      return SignaturesFixed<0>(rt, m, tau, d, xs32, xs64, n, out, bucketOffset);
  }
}

template <typename T>
static inline T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

long GatherInterest(const uint8_t* blob, size_t nonEmpty, size_t countsOffset, size_t sumsOffset, int dtype, int groups, int buckets, int d, const uint16_t* sigs,
                    size_t n, int mode, double* out) {
  const size_t total = static_cast<size_t>(groups) * buckets;
  // Row of each bucket index in the blob (-1: empty), and the value of every stored sum in float64
  // (exact: int32 * 2^-16 and float32 -> float64 are exact conversions).
  std::vector<int32_t> row(total, -1);
  std::vector<double> counts(nonEmpty);
  std::vector<double> v(nonEmpty * d);
  const size_t HEADER = 24;
  for (size_t i = 0; i < nonEmpty; i++) {
    const uint16_t b = Load<uint16_t>(blob + HEADER + 2 * i);
    if (b >= total) return b;
    row[b] = static_cast<int32_t>(i);
    counts[i] = static_cast<double>(Load<uint32_t>(blob + countsOffset + 4 * i));
  }
  const uint8_t* s = blob + sumsOffset;
  const size_t cells = nonEmpty * d;
  if (dtype == 3) {
    const double scale = 1.0 / 65536.0;
    for (size_t i = 0; i < cells; i++) v[i] = static_cast<double>(Load<int32_t>(s + 4 * i)) * scale;
  } else if (dtype == 2) {
    std::memcpy(v.data(), s, cells * 8);
  } else {
    for (size_t i = 0; i < cells; i++) v[i] = static_cast<double>(Load<float>(s + 4 * i));
  }
  for (size_t c = 0; c < n; c++) {
    double* o = out + c * d;
    for (int k = 0; k < d; k++) o[k] = 0.0;
    double selected = 0.0;
    const uint16_t* sg = sigs + c * groups;
    for (int j = 0; j < groups; j++) {
      if (sg[j] >= buckets) return -2;
      const int32_t r = row[static_cast<size_t>(j) * buckets + sg[j]];
      // An empty bucket adds zeros in gatherInterest: the sums are unchanged (they start at +0).
      if (r < 0) continue;
      const double* src = v.data() + static_cast<size_t>(r) * d;
      for (int k = 0; k < d; k++) o[k] += src[k];
      selected += counts[r];
    }
    const double div = mode == 0 ? selected : static_cast<double>(groups);
    if (div == 0.0) {
      for (int k = 0; k < d; k++) o[k] = 0.0;
    } else {
      for (int k = 0; k < d; k++) o[k] /= div;
    }
  }
  return -1;
}

const char* SimdLevel() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__SSE2__)
  return "sse2";
#else
  return "scalar";
#endif
}

}  // namespace recsys_sdim
