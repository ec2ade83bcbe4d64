/**
 * Sufficient statistics of one metric in one variant, as gbstats (GrowthBook's Python engine,
 * gbstats/models/statistics.py) defines them: every figure the tests need comes from these sums,
 * so variants can be aggregated incrementally and the tests run on a handful of numbers.
 */
export interface SampleMeanStat {
  kind: 'mean';
  n: number;
  sum: number;
  sumSquares: number;
}
/** A 0/1 metric per unit: variance p(1-p). */
export interface ProportionStat {
  kind: 'proportion';
  n: number;
  sum: number;
}
export type BaseStat = SampleMeanStat | ProportionStat;
/** Ratio of two per-unit sums (e.g. clicks / items shown), variance by the delta method. */
export interface RatioStat {
  kind: 'ratio';
  n: number;
  m: BaseStat;
  d: BaseStat;
  /** sum over units of m_i * d_i */
  mdSumOfProducts: number;
}
/** CUPED: post-exposure metric adjusted by its pre-exposure value (theta set by the test, pooled over both arms). */
export interface RegressionAdjustedStat {
  kind: 'ra';
  n: number;
  post: BaseStat;
  pre: BaseStat;
  /** sum over units of post_i * pre_i */
  postPreSumOfProducts: number;
  theta: number;
}
export type Stat = BaseStat | RatioStat | RegressionAdjustedStat;

export const meanStat = (n: number, sum: number, sumSquares: number): SampleMeanStat => ({ kind: 'mean', n, sum, sumSquares });
export const proportionStat = (n: number, sum: number): ProportionStat => ({ kind: 'proportion', n, sum });
export const ratioStat = (n: number, m: BaseStat, d: BaseStat, mdSumOfProducts: number): RatioStat => ({ kind: 'ratio', n, m, d, mdSumOfProducts });
export const raStat = (n: number, post: BaseStat, pre: BaseStat, postPreSumOfProducts: number, theta = 0): RegressionAdjustedStat => ({
  kind: 'ra',
  n,
  post,
  pre,
  postPreSumOfProducts,
  theta,
});

const sumSquaresOf = (s: BaseStat) => (s.kind === 'mean' ? s.sumSquares : s.sum);

function baseMean(s: BaseStat): number {
  return s.n === 0 ? 0 : s.sum / s.n;
}
function baseVariance(s: BaseStat): number {
  if (s.kind === 'proportion') {
    const m = baseMean(s);
    return m * (1 - m);
  }
  if (s.n <= 1) return 0;
  return (s.sumSquares - (s.sum * s.sum) / s.n) / (s.n - 1);
}
function ratioCovariance(s: RatioStat): number {
  if (s.n <= 1) return 0;
  return (s.mdSumOfProducts - (s.m.sum * s.d.sum) / s.n) / (s.n - 1);
}
function raCovariance(s: RegressionAdjustedStat): number {
  if (s.n <= 1) return 0;
  return (s.postPreSumOfProducts - (s.post.sum * s.pre.sum) / s.n) / (s.n - 1);
}

export function mean(s: Stat): number {
  switch (s.kind) {
    case 'mean':
    case 'proportion':
      return baseMean(s);
    case 'ratio':
      return s.d.sum === 0 ? 0 : s.m.sum / s.d.sum;
    case 'ra':
      return baseMean(s.post) - s.theta * baseMean(s.pre);
  }
}

/** The mean with no regression adjustment (the denominator of relative lifts). */
export function unadjustedMean(s: Stat): number {
  return s.kind === 'ra' ? baseMean(s.post) : mean(s);
}

/** Per-unit variance (of the ratio: by the delta method). */
export function variance(s: Stat): number {
  switch (s.kind) {
    case 'mean':
    case 'proportion':
      return baseVariance(s);
    case 'ratio': {
      const dm = baseMean(s.d);
      if (dm === 0 || s.n <= 1) return 0;
      const mm = baseMean(s.m);
      return baseVariance(s.m) / dm ** 2 - (2 * ratioCovariance(s) * mm) / dm ** 3 + (mm ** 2 * baseVariance(s.d)) / dm ** 4;
    }
    case 'ra':
      if (s.n <= 1) return 0;
      return baseVariance(s.post) + s.theta ** 2 * baseVariance(s.pre) - 2 * s.theta * raCovariance(s);
  }
}

export const hasZeroVariance = (s: Stat): boolean => variance(s) <= 0;

function joint(a: BaseStat, b: BaseStat, n: number): BaseStat {
  if (a.kind === 'proportion' && b.kind === 'proportion') return proportionStat(n, a.sum + b.sum);
  if (a.kind === 'mean' && b.kind === 'mean') return meanStat(n, a.sum + b.sum, a.sumSquares + b.sumSquares);
  throw new Error('statistic types of a metric must be the same across variants');
}

/** CUPED's theta = cov(post, pre) / var(pre), pooled over both variants (gbstats compute_theta). 0 when either has no variance. */
export function computeTheta(a: RegressionAdjustedStat, b: RegressionAdjustedStat): number {
  const n = a.n + b.n;
  const post = joint(a.post, b.post, n);
  const pre = joint(a.pre, b.pre, n);
  if (baseVariance(pre) === 0 || baseVariance(post) === 0) return 0;
  const j = raStat(n, post, pre, a.postPreSumOfProducts + b.postPreSumOfProducts, 0);
  return raCovariance(j) / baseVariance(pre);
}

/**
 * What gbstats' BaseABTest does before any test: pooled theta for a pair of regression-adjusted
 * statistics, or their post statistics when theta is 0 (no variance).
 */
export function prepareForTest(a: Stat, b: Stat): [Stat, Stat] {
  if (a.kind === 'ra' && b.kind === 'ra') {
    const theta = computeTheta(a, b);
    if (theta === 0) return [a.post, b.post];
    return [
      { ...a, theta },
      { ...b, theta },
    ];
  }
  return [a, b];
}

export { sumSquaresOf };
