import { Vector } from './hasher';

/**
 * References for tests and benchmarks (not used on the serving path).
 *
 * What SDIM estimates. For one signature group with hyperplanes drawn afresh, behaviour x_j lands
 * in the candidate q's bucket with probability p_j = (1 - angle(q, x_j)/pi)^tau (tau independent
 * hyperplanes, each separating q and x_j with probability angle/pi). So the selected bucket sum
 * has expectation sum_j p_j x_j, and SDIM's 'none' mode (mean over groups of raw bucket sums) is an
 * unbiased estimator of that kernel-weighted sum. The 'l2' and 'count' modes normalise each
 * group's sum before averaging; they estimate the same direction up to the bias of a ratio, and
 * the bias shrinks as more behaviours collide. simhashKernelAttention therefore returns the
 * kernel-weighted mean sum_j p_j x_j / sum_j p_j: an attention with weights p_j normalised to sum
 * to one (same form as softmax attention). Cosine similarity, the quality measure of the
 * benchmark, ignores the positive scale, so it compares the direction that every mode estimates.
 */

/** History as rows of a row-major matrix. */
export interface Rows {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

export function toRows(vectors: readonly Vector[], d?: number): Rows {
  const cols = d ?? (vectors.length ? vectors[0].length : 0);
  const data = new Float64Array(vectors.length * cols);
  vectors.forEach((v, i) => {
    if (v.length !== cols) throw new RangeError(`row ${i} has dimension ${v.length}, expected ${cols}`);
    for (let k = 0; k < cols; k++) data[i * cols + k] = v[k];
  });
  return { data, rows: vectors.length, cols };
}

function asRows(history: Rows | readonly Vector[], d: number): Rows {
  return Array.isArray(history) ? toRows(history as readonly Vector[], d) : (history as Rows);
}

export interface AttentionOptions {
  /** Softmax temperature; scores are q.x / (sqrt(d) * temperature). Default 1 (scaled dot product). */
  temperature?: number;
}

/**
 * Exact target attention over the full history (DIN-style, keys = values = behaviour embeddings):
 * w_j = softmax_j(q . x_j / (sqrt(d) * temperature)), output sum_j w_j x_j. The 1/sqrt(d) scaling is
 * the transformer convention; it makes the weights insensitive to d for unit-variance components.
 * An empty history yields the zero vector.
 */
export function targetAttention(q: Vector, history: Rows | readonly Vector[], options: AttentionOptions = {}): Float64Array {
  const d = q.length;
  return targetAttentionBatch([q], asRows(history, d), options);
}

/** targetAttention for many candidates, row-major [n][d]; the benchmark's baseline. */
export function targetAttentionBatch(qs: readonly Vector[], h: Rows, options: AttentionOptions = {}): Float64Array {
  const d = h.cols;
  const L = h.rows;
  const x = h.data;
  const scale = 1 / (Math.sqrt(d) * (options.temperature ?? 1));
  const out = new Float64Array(qs.length * d);
  const scores = new Float64Array(L);
  for (let n = 0; n < qs.length; n++) {
    const q = qs[n];
    if (q.length !== d) throw new RangeError(`candidate ${n} has dimension ${q.length}, expected ${d}`);
    if (L === 0) continue;
    let max = -Infinity;
    for (let j = 0; j < L; j++) {
      let s = 0;
      const base = j * d;
      for (let k = 0; k < d; k++) s += q[k] * x[base + k];
      s *= scale;
      scores[j] = s;
      if (s > max) max = s;
    }
    let z = 0;
    for (let j = 0; j < L; j++) z += scores[j] = Math.exp(scores[j] - max);
    const o = n * d;
    for (let j = 0; j < L; j++) {
      const w = scores[j] / z;
      const base = j * d;
      for (let k = 0; k < d; k++) out[o + k] += w * x[base + k];
    }
  }
  return out;
}

/** The collision probability of one tau-bit signature: (1 - angle/pi)^tau. */
export function simhashCollisionProbability(cosine: number, tau: number): number {
  const c = Math.min(1, Math.max(-1, cosine));
  return Math.pow(1 - Math.acos(c) / Math.PI, tau);
}

export interface KernelOptions {
  /** 'mean' (default): sum p_j x_j / sum p_j; 'sum': sum p_j x_j (the expectation of SDIM 'none'). */
  weights?: 'mean' | 'sum';
}

/**
 * SimHash-kernel attention: weights p_j = (1 - angle(q, x_j)/pi)^tau, see the header comment.
 * A zero vector (angle undefined) is treated as orthogonal to q (cosine 0).
 */
export function simhashKernelAttention(q: Vector, history: Rows | readonly Vector[], tau: number, options: KernelOptions = {}): Float64Array {
  return simhashKernelAttentionBatch([q], asRows(history, q.length), tau, options);
}

export function simhashKernelAttentionBatch(qs: readonly Vector[], h: Rows, tau: number, options: KernelOptions = {}): Float64Array {
  const d = h.cols;
  const L = h.rows;
  const x = h.data;
  const norms = new Float64Array(L);
  for (let j = 0; j < L; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += x[j * d + k] * x[j * d + k];
    norms[j] = Math.sqrt(s);
  }
  const out = new Float64Array(qs.length * d);
  for (let n = 0; n < qs.length; n++) {
    const q = qs[n];
    let qn = 0;
    for (let k = 0; k < d; k++) qn += q[k] * q[k];
    qn = Math.sqrt(qn);
    let z = 0;
    const o = n * d;
    for (let j = 0; j < L; j++) {
      let dot = 0;
      const base = j * d;
      for (let k = 0; k < d; k++) dot += q[k] * x[base + k];
      const cos = qn > 0 && norms[j] > 0 ? dot / (qn * norms[j]) : 0;
      const p = simhashCollisionProbability(cos, tau);
      z += p;
      for (let k = 0; k < d; k++) out[o + k] += p * x[base + k];
    }
    if ((options.weights ?? 'mean') === 'mean' && z > 0) for (let k = 0; k < d; k++) out[o + k] /= z;
  }
  return out;
}

/** Cosine similarity of a and b (0 when either is the zero vector). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>, aOffset = 0, bOffset = 0, d = a.length - aOffset): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < d; k++) {
    const x = a[aOffset + k];
    const y = b[bOffset + k];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Mean row-wise cosine of two row-major [n][d] matrices. */
export function meanRowCosine(a: ArrayLike<number>, b: ArrayLike<number>, d: number): number {
  const n = a.length / d;
  let s = 0;
  for (let i = 0; i < n; i++) s += cosine(a, b, i * d, i * d, d);
  return n ? s / n : 0;
}
