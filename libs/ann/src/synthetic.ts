/**
 * Seeded synthetic vectors: a clustered Gaussian mixture whose clusters are anisotropic, so
 * the data has a decaying spectrum like real embeddings (SIFT, learned item vectors) instead of
 * the isotropic noise on which every graph index is at its worst.
 *
 * Point i of cluster c: x = center_c + spread * s[perm_c[j]] * z_j with z ~ N(0, 1), where
 * s_r = (r + 1)^(-decay), rescaled so that mean(s^2) = 1 (spread is the per-dimension RMS
 * deviation), and perm_c a per-cluster permutation (each cluster stretches along other axes).
 * Centers are N(0, centerScale^2) per coordinate. Same seed, same options => same bytes.
 */

/** mulberry32: a tiny 32-bit PRNG, good enough for test and benchmark data, fully deterministic. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform and standard-normal draws from one seeded stream (Box-Muller, both values used). */
export class Rng {
  private readonly uniform: () => number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.uniform = mulberry32(seed);
  }

  next(): number {
    return this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.uniform();
    while (u <= 1e-12) u = this.uniform(); // log(0) guard
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    this.hasSpare = true;
    return r * Math.cos(2 * Math.PI * v);
  }
}

export interface MixtureOptions {
  dim: number;
  /** Number of Gaussian clusters (default 64). */
  clusters?: number;
  /** Per-dimension RMS deviation of a point from its cluster center (default 1). */
  spread?: number;
  /** Per-coordinate standard deviation of the cluster centers (default 2). */
  centerScale?: number;
  /** Spectral decay exponent of the within-cluster axes; 0 = isotropic (default 0.5: s_r^2 ~ 1/r, a participation ratio of ~18 axes at 128-d, SIFT-like). */
  decay?: number;
  seed?: number;
}

export interface VectorSet {
  dim: number;
  count: number;
  /** Row-major count x dim. */
  data: Float32Array;
}

/** A fixed mixture (centers, axis scales, per-cluster axis order) from which any number of points is drawn. */
export class GaussianMixture {
  readonly dim: number;
  readonly clusters: number;
  readonly spread: number;
  readonly centerScale: number;
  readonly decay: number;
  readonly seed: number;
  readonly centers: Float32Array;
  /** scales[c * dim + j]: the standard deviation of axis j inside cluster c. */
  private readonly scales: Float32Array;

  constructor(opts: MixtureOptions) {
    this.dim = opts.dim;
    this.clusters = opts.clusters ?? 64;
    this.spread = opts.spread ?? 1;
    this.centerScale = opts.centerScale ?? 2;
    this.decay = opts.decay ?? 0.5;
    this.seed = opts.seed ?? 42;
    if (!(this.dim > 0 && this.clusters > 0)) throw new Error('GaussianMixture: dim and clusters must be positive');
    const rng = new Rng(this.seed);
    const d = this.dim;
    this.centers = new Float32Array(this.clusters * d);
    for (let i = 0; i < this.centers.length; i++) this.centers[i] = rng.normal() * this.centerScale;

    const base = new Float64Array(d);
    let sumSq = 0;
    for (let r = 0; r < d; r++) {
      base[r] = Math.pow(r + 1, -this.decay);
      sumSq += base[r] * base[r];
    }
    const norm = Math.sqrt(d / sumSq) * this.spread;
    this.scales = new Float32Array(this.clusters * d);
    const perm = new Int32Array(d);
    for (let c = 0; c < this.clusters; c++) {
      for (let j = 0; j < d; j++) perm[j] = j;
      for (let j = d - 1; j > 0; j--) {
        const s = rng.int(j + 1);
        const t = perm[j];
        perm[j] = perm[s];
        perm[s] = t;
      }
      for (let j = 0; j < d; j++) this.scales[c * d + j] = base[perm[j]] * norm;
    }
  }

  /** Draws count points; a different seed gives an independent sample of the same mixture. */
  sample(count: number, seed: number): VectorSet {
    const d = this.dim;
    const rng = new Rng(seed);
    const data = new Float32Array(count * d);
    for (let i = 0; i < count; i++) {
      const c = rng.int(this.clusters);
      const off = i * d;
      const co = c * d;
      for (let j = 0; j < d; j++) data[off + j] = this.centers[co + j] + this.scales[co + j] * rng.normal();
    }
    return { dim: d, count, data };
  }
}

export interface SyntheticDatasetOptions extends MixtureOptions {
  n: number;
  queries: number;
}

export interface SyntheticDataset {
  base: VectorSet;
  queries: VectorSet;
  mixture: GaussianMixture;
}

/** Base vectors and held-out queries from the same mixture (independent streams). */
export function syntheticDataset(opts: SyntheticDatasetOptions): SyntheticDataset {
  const mixture = new GaussianMixture(opts);
  return {
    mixture,
    base: mixture.sample(opts.n, mixture.seed * 2 + 1),
    queries: mixture.sample(opts.queries, mixture.seed * 2 + 2),
  };
}

/** Row i of a row-major set, as a view (no copy). */
export function row(set: VectorSet, i: number): Float32Array {
  return set.data.subarray(i * set.dim, (i + 1) * set.dim);
}
