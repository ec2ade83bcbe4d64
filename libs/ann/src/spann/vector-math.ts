/**
 * Distance kernels for the SPANN index, on flat Float32Arrays with offsets so that posting-list
 * buffers, centroid tables and queries share one code path without subarray allocations.
 * Loops are unrolled by 4 (V8 keeps four independent accumulators in registers).
 */

/** Squared euclidean distance between a[aOff..aOff+dim) and b[bOff..bOff+dim). */
export function l2sq(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const end4 = dim - (dim & 3);
  for (; i < end4; i += 4) {
    const d0 = a[aOff + i] - b[bOff + i];
    const d1 = a[aOff + i + 1] - b[bOff + i + 1];
    const d2 = a[aOff + i + 2] - b[bOff + i + 2];
    const d3 = a[aOff + i + 3] - b[bOff + i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = a[aOff + i] - b[bOff + i];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Dot product of a[aOff..aOff+dim) and b[bOff..bOff+dim). */
export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const end4 = dim - (dim & 3);
  for (; i < end4; i += 4) {
    s0 += a[aOff + i] * b[bOff + i];
    s1 += a[aOff + i + 1] * b[bOff + i + 1];
    s2 += a[aOff + i + 2] * b[bOff + i + 2];
    s3 += a[aOff + i + 3] * b[bOff + i + 3];
  }
  for (; i < dim; i++) s0 += a[aOff + i] * b[bOff + i];
  return s0 + s1 + s2 + s3;
}

/** Squared norm of v[off..off+dim). */
export function normSq(v: Float32Array, off: number, dim: number): number {
  return dot(v, off, v, off, dim);
}

/** Scales v[off..off+dim) to unit length; the zero vector is left as is. */
export function normalizeAt(v: Float32Array, off: number, dim: number): void {
  const n = Math.sqrt(normSq(v, off, dim));
  if (n === 0) return;
  const inv = 1 / n;
  for (let i = 0; i < dim; i++) v[off + i] *= inv;
}

/** mulberry32: a small deterministic 32-bit PRNG; builds with the same seed give the same index. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
