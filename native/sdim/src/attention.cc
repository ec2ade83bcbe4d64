// Target attention in float32 with fused multiply-adds, blocked over keys with an online softmax
// (the flash-attention recurrence): per key block the block is packed (transposed for the scores,
// row-major for the weighted sum), then every query block of QB rows computes its QB x KB scores
// in registers, folds them into its running max / sum, and accumulates p * x. GCC vector
// extensions: 16-float vectors (one AVX-512 register, two AVX2 registers).
#pragma GCC optimize("fp-contract=fast")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"

namespace recsys_sdim {

typedef float v16 __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

constexpr int W = 16;   // floats per vector
constexpr int KB = 64;  // keys per block (4 vectors of scores per query row)
constexpr int KV = KB / W;
constexpr int QB = 4;  // query rows per block

static inline v16 Splat(float x) { return v16{} + x; }

static inline float HMax(v16 v) {
  float m = v[0];
  for (int i = 1; i < W; i++) m = std::max(m, v[i]);
  return m;
}
static inline float HSum(v16 v) {
  float s = 0;
  for (int i = 0; i < W; i++) s += v[i];
  return s;
}

// exp for x <= 0 (scores minus their running max): 2^n * p(r), r = x - n ln2 in [-ln2/2, ln2/2],
// p the degree-6 Taylor polynomial (relative error below 2e-7); inputs below -87 give ~1e-38.
static inline v16 Exp(v16 x) {
  const v16 lo = Splat(-87.0f);
  x = x < lo ? lo : x;
  const v16 magic = Splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  v16 t = x * Splat(1.44269504088896341f) + magic;
  const v16 n = t - magic;
  v16 r = x - n * Splat(0.693359375f);
  r = r - n * Splat(-2.12194440e-4f);
  v16 p = Splat(1.0f / 720);
  p = p * r + Splat(1.0f / 120);
  p = p * r + Splat(1.0f / 24);
  p = p * r + Splat(1.0f / 6);
  p = p * r + Splat(0.5f);
  p = p * r + Splat(1.0f);
  p = p * r + Splat(1.0f);
  const v16i e = (__builtin_convertvector(n, v16i) + 127) << 23;
  v16 scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

void Attention(const float* q, size_t n, const float* x, size_t L, int d, float* out) {
  const int dv = (d + W - 1) / W;  // vectors per row
  const int dp = dv * W;           // padded dimension
  const size_t nb = (n + QB - 1) / QB;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  // Queries pre-scaled by 1/sqrt(d), padded to QB rows per block and dp columns.
  std::vector<float> qs(nb * QB * dp, 0.0f);
  for (size_t c = 0; c < n; c++)
    for (int k = 0; k < d; k++) qs[c * dp + k] = q[c * d + k] * scale;
  std::vector<float> mx(nb * QB, -std::numeric_limits<float>::infinity());
  std::vector<float> sum(nb * QB, 0.0f);
  std::vector<v16> acc(nb * QB * dv, v16{});
  std::vector<v16> xt(static_cast<size_t>(d) * KV);   // block transposed: xt[k * KV + v][lane] = x[j0 + v*W + lane][k]
  std::vector<v16> xr(static_cast<size_t>(KB) * dv);  // block row-major, padded: xr[j * dv + v]
  for (size_t j0 = 0; j0 < L; j0 += KB) {
    const int kb = static_cast<int>(std::min<size_t>(KB, L - j0));
    std::fill(xt.begin(), xt.end(), v16{});
    std::fill(xr.begin(), xr.end(), v16{});
    float* xtf = reinterpret_cast<float*>(xt.data());
    float* xrf = reinterpret_cast<float*>(xr.data());
    for (int j = 0; j < kb; j++) {
      const float* src = x + (j0 + j) * d;
      for (int k = 0; k < d; k++) {
        xtf[k * KB + j] = src[k];
        xrf[j * dp + k] = src[k];
      }
    }
    for (size_t b = 0; b < nb; b++) {
      const float* qb = qs.data() + b * QB * dp;
      v16 s[QB][KV];
      for (int r = 0; r < QB; r++)
        for (int v = 0; v < KV; v++) s[r][v] = v16{};
      for (int k = 0; k < d; k++) {
        const v16* xk = xt.data() + k * KV;
        for (int r = 0; r < QB; r++) {
          const v16 qk = Splat(qb[r * dp + k]);
          for (int v = 0; v < KV; v++) s[r][v] += qk * xk[v];
        }
      }
      if (kb < KB) {
        // Keys past the end of the history: score -inf, weight 0.
        for (int r = 0; r < QB; r++)
          for (int v = 0; v < KV; v++)
            for (int lane = 0; lane < W; lane++)
              if (v * W + lane >= kb) s[r][v][lane] = -std::numeric_limits<float>::infinity();
      }
      float p[QB][KB];
      for (int r = 0; r < QB; r++) {
        const size_t row = b * QB + r;
        v16 m = s[r][0];
        for (int v = 1; v < KV; v++) m = m > s[r][v] ? m : s[r][v];
        const float mNew = std::max(mx[row], HMax(m));
        const float alpha = std::exp(mx[row] - mNew);  // 0 at the first block (-inf)
        mx[row] = mNew;
        v16 ps = v16{};
        for (int v = 0; v < KV; v++) {
          v16 e = Exp(s[r][v] - Splat(mNew));
          if (kb < KB)
            for (int lane = 0; lane < W; lane++)
              if (v * W + lane >= kb) e[lane] = 0.0f;
          ps += e;
          std::memcpy(&p[r][v * W], &e, sizeof e);
        }
        sum[row] = sum[row] * alpha + HSum(ps);
        v16* a = acc.data() + row * dv;
        const v16 av = Splat(alpha);
        for (int v = 0; v < dv; v++) a[v] *= av;
      }
      v16* a0 = acc.data() + (b * QB) * dv;
      for (int j = 0; j < kb; j++) {
        const v16* xj = xr.data() + j * dv;
        for (int r = 0; r < QB; r++) {
          const v16 pj = Splat(p[r][j]);
          for (int v = 0; v < dv; v++) a0[r * dv + v] += pj * xj[v];
        }
      }
    }
  }
  for (size_t c = 0; c < n; c++) {
    const float* a = reinterpret_cast<const float*>(acc.data() + c * dv);
    const float inv = sum[c] > 0 ? 1.0f / sum[c] : 0.0f;
    for (int k = 0; k < d; k++) out[c * d + k] = a[k] * inv;
  }
}

}  // namespace recsys_sdim
