/**
 * Distance kernels for the SPANN index, on flat Float32Arrays with offsets so that posting-list
 * buffers, centroid tables and queries share one code path without subarray allocations.
 * Loops are unrolled by 4 (V8 keeps four independent accumulators in registers).
 */

import { dot } from '../distance';

// The kernels are shared with the exact and HNSW indexes (same arithmetic, same results).
export { dot, l2sq } from '../distance';
/** mulberry32: builds with the same seed give the same index. */
export { mulberry32 as seededRandom } from '../synthetic';

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
