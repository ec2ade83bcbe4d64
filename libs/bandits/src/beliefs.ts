import { betaQuantile, logit, normalQuantile, sigmoid } from './math';
import { betaParams, type Effect } from './posterior';
import type { Rng } from './rng';

/**
 * What a slate policy knows about n candidates: a score per candidate whose order is the order of
 * P(click | examined), its posterior mean and quantiles, and joint posterior samples. `toProb`
 * maps a score to a probability (the `sampledScore` the API returns).
 */
export interface Beliefs {
  readonly n: number;
  /** group index per candidate (0..groupCount-1), for the per-group cap */
  readonly groups: Int32Array;
  readonly groupCount: number;
  mean(out: Float64Array): void;
  quantile(level: number, out: Float64Array): void;
  /** One joint posterior draw, written for the candidates in `active` (the others are left alone). */
  sample(rng: Rng, active: Int32Array, out: Float64Array): void;
  /** Lower and upper bounds holding with probability >= 1 - 2 Phi(-c) per candidate, or null (no pruning). */
  bounds(c: number): { lower: Float64Array; upper: Float64Array } | null;
  toProb(score: number): number;
  /**
   * Optional fast path: one joint draw, returning the indices of the k largest sampled scores
   * (best first) and writing their scores to `out`. Candidates are visited in `order` (by upper
   * bound, descending) and the walk stops at the first whose upper bound is below the current k-th
   * best sample: exact up to the bounds' tail probability, and most candidates are never sampled.
   */
  sampleTop?(rng: Rng, order: Int32Array, upper: Float64Array, k: number, out: Float64Array, top: Int32Array): number;
}

/**
 * Default exploration scale of the Thompson policies' posterior draws (GaussianBeliefs.explore),
 * chosen on validation seeds of the bench:slates simulations (bench/slates/README.md), not on the
 * reported seeds.
 */
export const DEFAULT_EXPLORE = 0.25;

/** Gaussian effects: a list of {m, q} (mean, precision), or the same as two typed arrays. */
export type EffectsLike = ReadonlyArray<{ m: number; q: number }> | { m: Float64Array; q: Float64Array };

function meanAndSd(e: EffectsLike): [Float64Array, Float64Array] {
  if ('m' in e && e.m instanceof Float64Array) {
    const sd = new Float64Array(e.q.length);
    for (let i = 0; i < sd.length; i++) sd[i] = 1 / Math.sqrt(e.q[i]);
    return [e.m, sd];
  }
  const list = e as ReadonlyArray<{ m: number; q: number }>;
  const m = new Float64Array(list.length);
  const sd = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    m[i] = list[i].m;
    sd[i] = 1 / Math.sqrt(list[i].q);
  }
  return [m, sd];
}

/**
 * Gaussian beliefs on the logit scale: z_i = a * l_i + g_{G(i)} + d_i with independent Gaussian
 * a, g and d (the diagonal Laplace posterior). A draw samples a once, each group once and each
 * item's d, so items of a group share their group's draw, as the hierarchical model says.
 */
export class GaussianBeliefs implements Beliefs {
  readonly n: number;
  readonly l: Float64Array;
  readonly itemMean: Float64Array;
  readonly itemSd: Float64Array;
  readonly groupMean: Float64Array;
  readonly groupSd: Float64Array;
  private readonly groupDraw: Float64Array;
  /**
   * Exploration scale of the posterior draws (Thompson policies): a draw is mean + explore x sd,
   * as the variance scaling of Chapelle & Li (2011, section 4). 1 = the posterior itself; smaller
   * values explore less. The bounds scale with it; means and quantiles do not.
   */
  explore = 1;

  constructor(
    readonly slope: { m: number; q: number },
    groupEffects: EffectsLike,
    readonly groups: Int32Array,
    pctr: ArrayLike<number>,
    items: EffectsLike,
  ) {
    this.n = groups.length;
    this.l = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) this.l[i] = logit(pctr[i]);
    [this.itemMean, this.itemSd] = meanAndSd(items);
    [this.groupMean, this.groupSd] = meanAndSd(groupEffects);
    this.groupDraw = new Float64Array(this.groupMean.length);
  }

  get groupCount() {
    return this.groupMean.length;
  }

  /** Point-mass or fixed beliefs: mean per candidate, sd per candidate, no shared terms. */
  static independent(mean: ArrayLike<number>, sd: ArrayLike<number>, groups?: Int32Array): GaussianBeliefs {
    const n = mean.length;
    const g = groups ?? new Int32Array(n);
    const groupCount = n === 0 ? 0 : Math.max(...g) + 1;
    const items = Array.from({ length: n }, (_, i) => ({ m: mean[i], q: sd[i] > 0 ? 1 / (sd[i] * sd[i]) : Infinity }));
    return new GaussianBeliefs(
      { m: 0, q: Infinity },
      Array.from({ length: groupCount }, () => ({ m: 0, q: Infinity })),
      g,
      new Float64Array(n).fill(0.5),
      items,
    );
  }

  private sd(i: number): number {
    const sa = 1 / Math.sqrt(this.slope.q);
    const l = this.l[i];
    const gs = this.groupSd[this.groups[i]];
    return Math.sqrt(l * l * sa * sa + gs * gs + this.itemSd[i] * this.itemSd[i]);
  }

  mean(out: Float64Array): void {
    for (let i = 0; i < this.n; i++) out[i] = this.slope.m * this.l[i] + this.groupMean[this.groups[i]] + this.itemMean[i];
  }

  quantile(level: number, out: Float64Array): void {
    const zq = normalQuantile(level);
    this.mean(out);
    for (let i = 0; i < this.n; i++) out[i] += zq * this.sd(i);
  }

  sample(rng: Rng, active: Int32Array, out: Float64Array): void {
    const x = this.explore;
    const sa = x / Math.sqrt(this.slope.q);
    const a = sa > 0 ? this.slope.m + sa * rng.normal() : this.slope.m;
    const gd = this.groupDraw;
    for (let g = 0; g < gd.length; g++) gd[g] = this.groupSd[g] > 0 && x > 0 ? this.groupMean[g] + x * this.groupSd[g] * rng.normal() : this.groupMean[g];
    for (let k = 0; k < active.length; k++) {
      const i = active[k];
      const sd = x * this.itemSd[i];
      out[i] = a * this.l[i] + gd[this.groups[i]] + (sd > 0 ? this.itemMean[i] + sd * rng.normal() : this.itemMean[i]);
    }
  }

  sampleTop(rng: Rng, order: Int32Array, upper: Float64Array, k: number, out: Float64Array, top: Int32Array): number {
    const x = this.explore;
    const sa = x / Math.sqrt(this.slope.q);
    const a = sa > 0 ? this.slope.m + sa * rng.normal() : this.slope.m;
    const gd = this.groupDraw;
    for (let g = 0; g < gd.length; g++) gd[g] = this.groupSd[g] > 0 && x > 0 ? this.groupMean[g] + x * this.groupSd[g] * rng.normal() : this.groupMean[g];
    let len = 0;
    for (let c = 0; c < order.length; c++) {
      const i = order[c];
      if (len === k && upper[i] < out[top[k - 1]]) break;
      const sd = x * this.itemSd[i];
      const z = a * this.l[i] + gd[this.groups[i]] + (sd > 0 ? this.itemMean[i] + sd * rng.normal() : this.itemMean[i]);
      out[i] = z;
      if (len === k) {
        if (!(z > out[top[k - 1]])) continue;
        len--;
      }
      let j = len;
      while (j > 0 && out[top[j - 1]] < z) {
        top[j] = top[j - 1];
        j--;
      }
      top[j] = i;
      len++;
    }
    return len;
  }

  bounds(c: number) {
    const lower = new Float64Array(this.n);
    const upper = new Float64Array(this.n);
    this.mean(lower);
    upper.set(lower);
    for (let i = 0; i < this.n; i++) {
      const s = c * this.explore * this.sd(i);
      lower[i] -= s;
      upper[i] += s;
    }
    return { lower, upper };
  }

  toProb(score: number) {
    return sigmoid(score);
  }
}

/** Beta-Bernoulli beliefs: independent Beta posteriors per item (from item and group counts). */
export class BetaBeliefs implements Beliefs {
  readonly n: number;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;

  constructor(
    groupEffects: ReadonlyArray<Effect>,
    readonly groups: Int32Array,
    items: ReadonlyArray<Effect>,
    kappa = 20,
  ) {
    this.n = groups.length;
    this.alpha = new Float64Array(this.n);
    this.beta = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const p = betaParams(groupEffects[groups[i]], items[i], kappa);
      this.alpha[i] = p.alpha;
      this.beta[i] = p.beta;
    }
    this.groupCount = groupEffects.length;
  }
  readonly groupCount: number;

  mean(out: Float64Array): void {
    for (let i = 0; i < this.n; i++) out[i] = this.alpha[i] / (this.alpha[i] + this.beta[i]);
  }

  quantile(level: number, out: Float64Array): void {
    for (let i = 0; i < this.n; i++) out[i] = betaQuantile(level, this.alpha[i], this.beta[i]);
  }

  sample(rng: Rng, active: Int32Array, out: Float64Array): void {
    for (let k = 0; k < active.length; k++) {
      const i = active[k];
      out[i] = rng.beta(this.alpha[i], this.beta[i]);
    }
  }

  bounds() {
    return null;
  }

  toProb(score: number) {
    return score;
  }
}
