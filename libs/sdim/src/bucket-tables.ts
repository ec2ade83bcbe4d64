import { SdimConfig, SdimHasher, Vector } from './hasher';

/**
 * How the selected buckets of a candidate become its interest vector:
 * - 'l2' (as in the paper): mean over groups of sum / ||sum||;
 * - 'count': mean over groups of sum / count, the mean of the behaviours in each bucket;
 * - 'none': mean over groups of the raw sums (an unbiased estimate of the SimHash-kernel weighted
 *   sum, see reference.ts);
 * - 'pooled': the selected sums added over groups, divided by the selected counts added over
 *   groups: the mean of every behaviour that shares a signature with the candidate, counted once
 *   per shared signature. A ratio of two unbiased estimates, so it converges to the kernel-weighted
 *   mean sum_j p_j x_j / sum_j p_j (reference.ts simhashKernelAttention) itself, scale included, and
 *   has the form of an attention output (a convex combination of behaviours). The default.
 * An empty bucket (or, for 'l2', a bucket whose sum is the zero vector) contributes zero; 'pooled'
 * with every selected bucket empty gives the zero vector.
 */
export type Normalization = 'l2' | 'count' | 'none' | 'pooled';

export const NORMALIZATIONS: readonly Normalization[] = ['l2', 'count', 'none', 'pooled'];

/**
 * 'pooled': of the modes it alone approximates the SimHash-kernel attention as a vector (mean
 * cosine 0.97 at m=48, tau=3 where 'l2' gives 0.95, bench/sdim), and as a ranking feature it scores
 * like exact target attention (bench/results/training). SPEC.md section 4.
 */
export const DEFAULT_NORMALIZATION: Normalization = 'pooled';

export interface InterestOptions {
  normalize?: Normalization;
}

/** Embedding components are snapped to multiples of 2^-16 (the fixed-point grid) before they enter the sums. */
export const SNAP_SCALE = 65536; // 2^16
/** Largest accepted |component|; with at most MAX_BUCKET_COUNT behaviours per bucket, |sum| < 2^29. */
export const MAX_ABS_COMPONENT = 1024;
export const MAX_BUCKET_COUNT = 1 << 19;

/**
 * Snap to the 2^-16 grid: floor(x * 2^16 + 0.5) / 2^16. Every snapped component is k * 2^-16 with
 * |k| <= 2^26, so any sum of at most 2^19 of them is an integer multiple of 2^-16 below 2^45 units:
 * float64 represents every partial sum exactly. Hence add/remove are exact inverses and the
 * tables do not depend on the order of the behaviours (out-of-order events, replays, evictions),
 * and a sum below 2^15 in magnitude is also exact as a 32-bit fixed-point integer (codec 'i32').
 * The grid step, 1.5e-5, is far below what matters for unit-scale embeddings.
 */
export function snap(x: number): number {
  // Multiplying by 2^-16 equals dividing by 2^16 exactly (a power of two), and is faster.
  return Math.floor(x * SNAP_SCALE + 0.5) * SNAP_STEP;
}

const SNAP_STEP = 1 / SNAP_SCALE;

/**
 * Validates (finite, |x_k| <= MAX_ABS_COMPONENT) and snaps an embedding once, for callers that
 * add or remove the same vector many times (addSnapped / removeSnapped).
 */
export function snapVector(x: Vector, out: Float64Array = new Float64Array(x.length)): Float64Array {
  for (let k = 0; k < x.length; k++) {
    const v = x[k];
    if (!(Math.abs(v) <= MAX_ABS_COMPONENT)) throw new RangeError(`embedding component ${k} is ${v}; |x| must be <= ${MAX_ABS_COMPONENT}`);
    out[k] = snap(v);
  }
  return out;
}

/**
 * Per-user SDIM bucket tables: for every signature group j and signature value c, the sum of the
 * (snapped) embeddings of the behaviours whose signature j is c, and their count.
 * Layout: bucket index b = j * 2^tau + c; sums[b * d + k]; counts[b].
 */
export class BucketTables {
  readonly config: Readonly<SdimConfig>;
  readonly groups: number;
  readonly buckets: number;
  readonly sums: Float64Array;
  readonly counts: Uint32Array;
  private readonly scratch: Uint16Array;
  private readonly snapped: Float64Array;

  constructor(
    readonly hasher: SdimHasher,
    sums?: Float64Array,
    counts?: Uint32Array,
  ) {
    this.config = hasher.config;
    this.groups = hasher.groups;
    this.buckets = hasher.buckets;
    const n = this.groups * this.buckets;
    this.sums = sums ?? new Float64Array(n * this.config.d);
    this.counts = counts ?? new Uint32Array(n);
    if (this.sums.length !== n * this.config.d || this.counts.length !== n) throw new RangeError('sums/counts do not match the config');
    this.scratch = new Uint16Array(this.groups);
    this.snapped = new Float64Array(this.config.d);
  }

  /** Number of behaviours in the tables (every behaviour is counted once in each group). */
  get size(): number {
    let n = 0;
    for (let c = 0; c < this.buckets; c++) n += this.counts[c];
    return n;
  }

  /**
   * Adds a behaviour. `signatures` (m/tau values, as from SdimHasher.signatures) may be passed when
   * already known (e.g. cached with the item); otherwise they are computed from x.
   */
  add(x: Vector, signatures?: ArrayLike<number>): void {
    this.checkDim(x);
    this.apply(snapVector(x, this.snapped), signatures ?? this.hasher.signatures(x, this.scratch), 1);
  }

  /** Removes a behaviour previously added with the same vector; exact inverse of add. */
  remove(x: Vector, signatures?: ArrayLike<number>): void {
    this.checkDim(x);
    this.apply(snapVector(x, this.snapped), signatures ?? this.hasher.signatures(x, this.scratch), -1);
  }

  /** add() for a vector already passed through snapVector() (the caller guarantees it). */
  addSnapped(snapped: Float64Array, signatures: ArrayLike<number>): void {
    this.checkDim(snapped);
    this.apply(snapped, signatures, 1);
  }

  /** remove() for a vector already passed through snapVector(). */
  removeSnapped(snapped: Float64Array, signatures: ArrayLike<number>): void {
    this.checkDim(snapped);
    this.apply(snapped, signatures, -1);
  }

  private checkDim(x: Vector): void {
    if (x.length !== this.config.d) throw new RangeError(`vector has dimension ${x.length}, expected ${this.config.d}`);
  }

  private apply(v: Float64Array, sigs: ArrayLike<number>, sign: 1 | -1): void {
    const d = this.config.d;
    const buckets = this.buckets;
    if (sigs.length !== this.groups) throw new RangeError(`expected ${this.groups} signatures, got ${sigs.length}`);
    // Validate every touched bucket before mutating anything, so a failure leaves the tables intact.
    for (let j = 0; j < this.groups; j++) {
      const c = sigs[j];
      if (!(c >= 0 && c < buckets && (c | 0) === c)) throw new RangeError(`signature ${j} is ${c}`);
      const count = this.counts[j * buckets + c];
      if (sign < 0 ? count === 0 : count >= MAX_BUCKET_COUNT) {
        throw new RangeError(sign < 0 ? `remove from an empty bucket (group ${j}, signature ${c}): behaviour was not added` : `bucket holds ${count} behaviours, the maximum`);
      }
    }
    const sums = this.sums;
    for (let j = 0; j < this.groups; j++) {
      const b = j * buckets + sigs[j];
      const count = (this.counts[b] += sign);
      const base = b * d;
      // count 0: exact arithmetic makes the sum 0 anyway after matching adds/removes; zeroing also
      // heals a remove of a vector that differs from the one added.
      if (count === 0) sums.fill(0, base, base + d);
      else if (sign > 0) for (let k = 0; k < d; k++) sums[base + k] += v[k];
      else for (let k = 0; k < d; k++) sums[base + k] -= v[k];
    }
  }

  /** The interest vector for candidate q: mean over groups of the normalised selected bucket. */
  interest(q: Vector, options: InterestOptions = {}): Float64Array {
    const sigs = this.hasher.signatures(q);
    return interestFromTables(this.sums, this.counts, this.groups, this.buckets, this.config.d, [sigs], options.normalize ?? DEFAULT_NORMALIZATION);
  }

  /** Interest vectors for many candidates, row-major [n][d]; equal to n calls of interest(). */
  interestBatch(qs: readonly Vector[], options: InterestOptions = {}): Float64Array {
    const sigs = qs.map((q) => this.hasher.signatures(q));
    return interestFromTables(this.sums, this.counts, this.groups, this.buckets, this.config.d, sigs, options.normalize ?? DEFAULT_NORMALIZATION);
  }

  clone(): BucketTables {
    return new BucketTables(this.hasher, this.sums.slice(), this.counts.slice());
  }

  /** Bitwise equality of sums and counts. */
  equals(other: BucketTables): boolean {
    if (other.sums.length !== this.sums.length || other.counts.length !== this.counts.length) return false;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] !== other.counts[i]) return false;
    for (let i = 0; i < this.sums.length; i++) if (!Object.is(this.sums[i], other.sums[i])) return false;
    return true;
  }

  nonEmptyBuckets(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) n++;
    return n;
  }
}

/**
 * Normalised bucket vectors (dense, [groups * buckets][d]); all-zero rows for empty buckets.
 * l2: s_k / sqrt(sum_k s_k^2) with the sum of squares accumulated from 0 in index order;
 * count: s_k / count; none and pooled: s_k ('pooled' divides after the gather, see gatherInterest).
 * Divisions, not multiplications by a reciprocal (parity with SPEC.md).
 */
export function normalizedBuckets(sums: ArrayLike<number>, counts: ArrayLike<number>, d: number, normalize: Normalization, out: Float64Array = new Float64Array(counts.length * d)): Float64Array {
  for (let b = 0; b < counts.length; b++) {
    const base = b * d;
    const count = counts[b];
    if (count === 0) {
      out.fill(0, base, base + d);
      continue;
    }
    let div = 1;
    if (normalize === 'l2') {
      let ss = 0;
      for (let k = 0; k < d; k++) ss += sums[base + k] * sums[base + k];
      div = Math.sqrt(ss);
      if (div === 0) {
        out.fill(0, base, base + d);
        continue;
      }
    } else if (normalize === 'count') {
      div = count;
    }
    if (normalize === 'none' || normalize === 'pooled') for (let k = 0; k < d; k++) out[base + k] = sums[base + k];
    else for (let k = 0; k < d; k++) out[base + k] = sums[base + k] / div;
  }
  return out;
}

/**
 * out[n][k] = (sum over groups j, in order, of v[j * 2^tau + sig[n][j]][k]) / D, where v is
 * normalizedBuckets(...) and D = groups, or for 'pooled' the sum over j of the selected counts.
 * `signatures` holds one array of m/tau signatures per candidate.
 */
export function interestFromTables(
  sums: ArrayLike<number>,
  counts: ArrayLike<number>,
  groups: number,
  buckets: number,
  d: number,
  signatures: readonly ArrayLike<number>[],
  normalize: Normalization,
  out?: Float64Array,
): Float64Array {
  const v = normalizedBuckets(sums, counts, d, normalize);
  return gatherInterest(v, groups, buckets, d, signatures, out, normalize === 'pooled' ? counts : undefined);
}

/**
 * The gather of interestFromTables, given normalised bucket vectors: the sum over groups divided by
 * the number of groups, or, when `pooledCounts` (the bucket counts) is given, by the sum of the
 * selected counts (accumulated over j in order; zero selected behaviours give the zero vector).
 */
export function gatherInterest(
  v: Float64Array,
  groups: number,
  buckets: number,
  d: number,
  signatures: readonly ArrayLike<number>[],
  out: Float64Array = new Float64Array(signatures.length * d),
  pooledCounts?: ArrayLike<number>,
): Float64Array {
  for (let n = 0; n < signatures.length; n++) {
    const sig = signatures[n];
    const o = n * d;
    for (let k = 0; k < d; k++) out[o + k] = 0;
    let selected = 0;
    for (let j = 0; j < groups; j++) {
      const b = j * buckets + sig[j];
      const base = b * d;
      for (let k = 0; k < d; k++) out[o + k] += v[base + k];
      if (pooledCounts) selected += pooledCounts[b];
    }
    const div = pooledCounts ? selected : groups;
    if (div === 0) out.fill(0, o, o + d);
    else for (let k = 0; k < d; k++) out[o + k] /= div;
  }
  return out;
}
