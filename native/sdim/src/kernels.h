#pragma once
#include <cstddef>
#include <cstdint>

namespace recsys_sdim {

// SimHash signatures of n vectors (row-major n x d, float32 or float64) against the m x d
// hyperplanes given transposed (rt[k * m + i] = R[i][k]). Each dot product is accumulated in
// float64 from 0 in index order k = 0..d-1, one rounding per product and per sum (no fused
// multiply-add): the arithmetic of libs/sdim SdimHasher.codes, so the codes are bit for bit the same.
// out[n * groups + j] = sum_b code(j * tau + b) << b, plus j * 2^tau when bucketOffset.
void Signatures(const double* rt, int m, int tau, int d, const float* xs32, const double* xs64, size_t n, uint16_t* out, bool bucketOffset);

// The interest of n candidates straight from an encoded tables blob (libs/sdim codec format 1):
// out[c][k] = (sum over groups j, in order, of value(bucket j*2^tau + sig[c][j])[k]) / D with
// D = the sum of the selected counts ('pooled', mode 0) or the number of groups ('none', mode 1),
// zero when D is zero. value = raw sum * scale (2^-16 for int32 sums). Reads the blob in place
// (unaligned loads); the same float64 operations in the same order as gatherInterest.
// Returns -1 when ok, -2 for a signature >= 2^tau, else the offending stored bucket index (out of range).
long GatherInterest(const uint8_t* blob, size_t nonEmpty, size_t countsOffset, size_t sumsOffset, int dtype, int groups, int buckets, int d, const uint16_t* sigs,
                    size_t n, int mode, double* out);

// Target attention, float32: out[c] = sum_j softmax_j(q_c . x_j / sqrt(d)) x_j over the L rows of x,
// blocked over keys with an online softmax (no n x L score matrix), fused multiply-adds.
void Attention(const float* q, size_t n, const float* x, size_t L, int d, float* out);

const char* SimdLevel();

}  // namespace recsys_sdim
