import type { Head } from './history';

/**
 * The user embedding: a recency-weighted mean of the behaviour embeddings in the capped history,
 * weight 2^((ts - now) / halfLife) by event time. The mean is a ratio, so `now` cancels: it is kept
 * incrementally as sum_j w_j x_j and sum_j w_j with w_j = 2^((ts_j - anchor) / halfLife) for a
 * fixed anchor, adding a behaviour when it enters the history and subtracting it when evicted.
 * The anchor moves forward (rescaling both sums) when a new event would give a weight above
 * 2^MAX_EXP, which keeps every stored weight finite. The sums are float64; subtraction leaves
 * rounding residue of about 1e-16 relative per eviction, negligible for retrieval, and
 * BehaviorRepository.rebuildUser recomputes them from scratch.
 */
const MAX_EXP = 256;

export function addWeighted(h: Head, x: ArrayLike<number>, ts: number, halfLifeMs: number, sign: 1 | -1): void {
  if (sign > 0 && h.weight === 0 && h.total === 0) h.anchorTs = ts;
  let e = (ts - h.anchorTs) / halfLifeMs;
  if (sign > 0 && e > MAX_EXP) {
    const scale = Math.pow(2, -e);
    for (let k = 0; k < h.sum.length; k++) h.sum[k] *= scale;
    h.weight *= scale;
    h.anchorTs = ts;
    e = 0;
  }
  const w = sign * Math.pow(2, e);
  for (let k = 0; k < h.sum.length; k++) h.sum[k] += w * x[k];
  h.weight += w;
}

/** Resets the sums exactly when the history is empty (no residue from subtraction survives). */
export function settle(h: Head): void {
  if (h.total === 0) {
    h.sum.fill(0);
    h.weight = 0;
  }
}

export function meanEmbedding(h: Head): Float32Array | null {
  if (h.total === 0 || !(h.weight > 0)) return null;
  return Float32Array.from(h.sum, (v) => v / h.weight);
}
