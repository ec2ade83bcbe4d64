/**
 * The one percentile definition every benchmark uses.
 *
 * Definition: linear interpolation between closest ranks (Hyndman & Fan type 7), the default of
 * numpy.quantile / numpy.percentile (`method='linear'`), R's quantile(type = 7), Excel's
 * PERCENTILE.INC and d3-array's quantileSorted. For n sorted values x[0..n-1] and q in [0, 1]:
 *
 *   h = (n - 1) * q,  quantile = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])
 *
 * so q = 0 is the minimum, q = 1 the maximum, and the median of an even count is the mean of the
 * two middle values. bench/common/stats.spec.ts checks it against numpy's figures.
 *
 * Why not a library: d3-array (the maintained implementation of exactly this definition) is
 * published as ES modules only, which this CommonJS build and jest's CommonJS runtime cannot load
 * without transforming node_modules; simple-statistics' quantile uses a different (nearest-rank
 * with averaging) definition. The formula above is a few lines and is tested against numpy.
 */

function check(q: number): void {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
}

/** Quantile q (0..1) of values already sorted ascending (not checked). Throws on an empty input. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  check(q);
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of an empty sample');
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo];
  return a + (h - lo) * (sorted[hi] - a);
}

/** A sorted copy (ascending, numeric) of values; the input is not modified. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Quantile q (0..1) of values (any order; sorted on a copy). */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(sortedCopy(values), q);
}

/** Several quantiles of the same values, sorting once. */
export function quantiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  const s = sortedCopy(values);
  return qs.map((q) => quantileSorted(s, q));
}

/** Percentile p (0..100): quantile(values, p / 100), as numpy.percentile. */
export function percentile(values: ArrayLike<number>, p: number): number {
  return quantile(values, p / 100);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new RangeError('mean of an empty sample');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/** Latency summary most benchmarks report: count, mean, p50, p90, p99, min and max. */
export interface Summary {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values);
  return { n: s.length, mean: mean(s), min: quantileSorted(s, 0), p50: quantileSorted(s, 0.5), p90: quantileSorted(s, 0.9), p99: quantileSorted(s, 0.99), max: quantileSorted(s, 1) };
}
