import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { NumpyRandomState } from './rng';

export type Vec = ArrayLike<number>;

export function mean(x: Vec): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values. */
export function sampleSd(x: Vec): number {
  const n = x.length;
  if (n < 2) return 0;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return Math.sqrt(s / (n - 1));
}

/** numpy's default percentile (linear interpolation between closest ranks), q in [0, 100]. */
export function percentile(values: Vec, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const h = ((s.length - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  const g = h - lo;
  return g === 0 ? s[lo] : s[lo] + g * (s[hi] - s[lo]);
}

/** Two-sided standard normal critical value for level 1 - alpha. */
export function zCritical(alpha: number): number {
  return normalQuantile(1 - alpha / 2, 0, 1);
}

export interface Interval {
  lower: number;
  upper: number;
  /** Nominal coverage, e.g. 0.95. */
  level: number;
}

export function normalInterval(estimate: number, stdErr: number, alpha: number): Interval {
  const z = zCritical(alpha);
  return { lower: estimate - z * stdErr, upper: estimate + z * stdErr, level: 1 - alpha };
}

export interface BootstrapOptions {
  /** Resamples (obp's n_bootstrap_samples; obp's default is 10,000). */
  n?: number;
  seed?: number;
  alpha?: number;
}

export interface BootstrapInterval extends Interval {
  mean: number;
  n: number;
  seed: number;
}

/**
 * obp's `estimate_confidence_interval_by_bootstrap`: `n` means of resamples drawn with
 * `RandomState(seed).choice(samples, size=len(samples))`, percentile interval. Same seed, same draws.
 */
export function bootstrapInterval(samples: Vec, opts: BootstrapOptions = {}): BootstrapInterval {
  const n = opts.n ?? 10_000;
  const seed = opts.seed ?? 12345;
  const alpha = opts.alpha ?? 0.05;
  const m = samples.length;
  const rs = new NumpyRandomState(seed);
  const boot = new Float64Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += samples[rs.randint(m)];
    boot[b] = s / m;
  }
  return { mean: mean(boot), lower: percentile(boot, 100 * (alpha / 2)), upper: percentile(boot, 100 * (1 - alpha / 2)), level: 1 - alpha, n, seed };
}
