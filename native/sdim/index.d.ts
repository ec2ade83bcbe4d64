/** SIMD kernels of libs/sdim (see README.md). Every array is read or written in place (views are fine). */

/**
 * SimHash signatures of the n = xs.length / d vectors of xs (row-major) into out (n x m/tau),
 * bit for bit libs/sdim SdimHasher.signatures (float64 dot products in index order, no fused
 * multiply-add). rt: the m x d hyperplanes transposed (rt[k * m + i] = R[i][k]). With
 * bucketOffset, group j's value is j * 2^tau + signature (a bucket index).
 */
export function signatures(rt: Float64Array, m: number, tau: number, d: number, xs: Float32Array | Float64Array, out: Uint16Array, bucketOffset: boolean): void;

/**
 * Interest vectors of the n = sigs.length / groups candidates straight from an encoded tables blob
 * (libs/sdim codec format 1; offsets from readHeader), without copying it: mode 0 'pooled', 1
 * 'none'. Bit for bit libs/sdim gatherInterest over the blob's values.
 */
export function gatherInterest(
  blob: Uint8Array,
  nonEmpty: number,
  countsOffset: number,
  sumsOffset: number,
  dtype: 1 | 2 | 3,
  groups: number,
  buckets: number,
  d: number,
  sigs: Uint16Array,
  mode: 0 | 1,
  out: Float64Array,
): void;

/** Target attention softmax(q x^T / sqrt(d)) x in float32 (n = q.length / d rows, L = x.length / d keys), online softmax over key blocks. */
export function attention(q: Float32Array, x: Float32Array, d: number, out: Float32Array): void;

export const buildInfo: { march: string; simd: string };
