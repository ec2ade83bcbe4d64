// Compiled with -ffp-contract=off (binding.gyp): every product and sum is rounded on its own.
#include <cstring>
#include <vector>

#include "kernels.h"

namespace recsys_sdim {

typedef double v8d __attribute__((vector_size(64)));

static inline v8d LoadV(const double* p) {
  v8d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

static inline double X(const float* xs32, const double* xs64, size_t i) { return xs32 ? static_cast<double>(xs32[i]) : xs64[i]; }

static void WriteSignatures(const double* acc, int groups, int tau, bool bucketOffset, uint16_t* o) {
  for (int j = 0; j < groups; j++) {
    int sig = 0;
    for (int bit = 0; bit < tau; bit++) sig |= (acc[j * tau + bit] > 0.0 ? 1 : 0) << bit;
    o[j] = static_cast<uint16_t>(bucketOffset ? sig + (j << tau) : sig);
  }
}

// m = 8 V: the accumulators of four vectors (4 V registers of 8 doubles) stay in registers, and
// each load of a hyperplane row serves the four. acc = acc + r * x per lane, in order k = 0..d-1.
template <int V>
static void SignaturesVec(const double* rt, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset) {
  constexpr int M = 8 * V;
  const int groups = M / tau;
  double spill[4][M];
  size_t c = 0;
  for (; c + 4 <= n; c += 4) {
    v8d a0[V], a1[V], a2[V], a3[V];
    for (int v = 0; v < V; v++) a0[v] = a1[v] = a2[v] = a3[v] = v8d{};
    for (int k = 0; k < d; k++) {
      const double x0 = X(xs32, xs64, c * d + k), x1 = X(xs32, xs64, (c + 1) * d + k), x2 = X(xs32, xs64, (c + 2) * d + k), x3 = X(xs32, xs64, (c + 3) * d + k);
      const double* r = rt + static_cast<size_t>(k) * M;
      for (int v = 0; v < V; v++) {
        const v8d rv = LoadV(r + 8 * v);
        a0[v] += rv * x0;
        a1[v] += rv * x1;
        a2[v] += rv * x2;
        a3[v] += rv * x3;
      }
    }
    std::memcpy(spill[0], a0, sizeof a0);
    std::memcpy(spill[1], a1, sizeof a1);
    std::memcpy(spill[2], a2, sizeof a2);
    std::memcpy(spill[3], a3, sizeof a3);
    for (int t = 0; t < 4; t++) WriteSignatures(spill[t], groups, tau, bucketOffset, out + (c + t) * groups);
  }
  for (; c < n; c++) {
    v8d a0[V];
    for (int v = 0; v < V; v++) a0[v] = v8d{};
    for (int k = 0; k < d; k++) {
      const double x0 = X(xs32, xs64, c * d + k);
      const double* r = rt + static_cast<size_t>(k) * M;
      for (int v = 0; v < V; v++) a0[v] += LoadV(r + 8 * v) * x0;
    }
    std::memcpy(spill[0], a0, sizeof a0);
    WriteSignatures(spill[0], groups, tau, bucketOffset, out + c * groups);
  }
}

// Any m: one vector at a time, the accumulators in memory.
static void SignaturesAny(const double* rt, int m, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset) {
  const int groups = m / tau;
  std::vector<double> acc(m);
  double* a = acc.data();
  for (size_t c = 0; c < n; c++) {
    for (int i = 0; i < m; i++) a[i] = 0.0;
    for (int k = 0; k < d; k++) {
      const double x = X(xs32, xs64, c * d + k);
      const double* r = rt + static_cast<size_t>(k) * m;
      for (int i = 0; i < m; i++) a[i] += r[i] * x;
    }
    WriteSignatures(a, groups, tau, bucketOffset, out + c * groups);
  }
}

void Signatures(const double* rt, int m, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset) {
  switch (m) {
    case 24:
      return SignaturesVec<3>(rt, tau, d, xs32, xs64, n, out, bucketOffset);
    case 32:
      return SignaturesVec<4>(rt, tau, d, xs32, xs64, n, out, bucketOffset);
    case 48:
      return SignaturesVec<6>(rt, tau, d, xs32, xs64, n, out, bucketOffset);
    default:
      return SignaturesAny(rt, m, tau, d, xs32, xs64, n, out, bucketOffset);
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
