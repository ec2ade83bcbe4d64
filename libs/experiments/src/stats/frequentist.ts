import { normCdf, normPpf, studentCdf, studentPpf } from './distributions';
import { hasZeroVariance, mean, prepareForTest, type Stat, unadjustedMean, variance } from './statistics';

export type DifferenceType = 'relative' | 'absolute';

export interface FrequentistOptions {
  alpha?: number;
  differenceType?: DifferenceType;
  /** Null hypothesis value of the difference. */
  testValue?: number;
  /**
   * `t`: Welch's t test with Welch-Satterthwaite degrees of freedom (gbstats TwoSidedTTest);
   * `z`: the same statistic against the normal distribution (large samples, proportions).
   */
  distribution?: 't' | 'z';
}

export interface SequentialOptions extends Omit<FrequentistOptions, 'distribution'> {
  /** gbstats' sequential_tuning_parameter: the sample size around which the sequence is tightest (default 5000). */
  tuning?: number;
}

export interface FrequentistResult {
  /** Lift of b over a: relative ((b-a)/a) or absolute (b-a). */
  expected: number;
  ci: [number, number];
  pValue: number;
  /** Standard error of `expected` (delta method for relative lifts). */
  stddev: number;
  dof?: number;
  errorMessage?: string;
}

export const BASELINE_ZERO = 'ZERO_NEGATIVE_BASELINE_VARIATION';
export const ZERO_VARIANCE = 'ZERO_NEGATIVE_VARIANCE';

/** Point estimate of the lift (gbstats frequentist_diff). */
export function liftEstimate(meanA: number, meanB: number, relative: boolean, meanAUnadjusted = meanA): number {
  const denom = meanAUnadjusted || meanA;
  return relative ? (meanB - meanA) / denom : meanB - meanA;
}

/** Variance of the lift estimate: Var(b)/n_b + Var(a)/n_a, or its delta-method form for (b-a)/a (gbstats frequentist_variance). */
export function liftVariance(varA: number, meanA: number, nA: number, varB: number, meanB: number, nB: number, relative: boolean): number {
  if (relative) return varB / (meanA ** 2 * nB) + (varA * meanB ** 2) / (meanA ** 4 * nA);
  return varB / nB + varA / nA;
}

/** Welch-Satterthwaite degrees of freedom. */
export function welchDof(a: Stat, b: Stat): number {
  const va = variance(a);
  const vb = variance(b);
  return (vb / b.n + va / a.n) ** 2 / (vb ** 2 / (b.n ** 2 * (b.n - 1)) + va ** 2 / (a.n ** 2 * (a.n - 1)));
}

function defaultOutput(errorMessage: string): FrequentistResult {
  return { expected: 0, ci: [0, 0], pValue: 1, stddev: 0, errorMessage };
}

function pointAndVariance(a: Stat, b: Stat, relative: boolean) {
  return {
    point: liftEstimate(mean(a), mean(b), relative, unadjustedMean(a)),
    v: liftVariance(variance(a), unadjustedMean(a), a.n, variance(b), unadjustedMean(b), b.n, relative),
  };
}

function guard(a: Stat, b: Stat): string | undefined {
  if (mean(a) === 0 || unadjustedMean(a) === 0) return BASELINE_ZERO;
  if (hasZeroVariance(a) || hasZeroVariance(b)) return ZERO_VARIANCE;
  return undefined;
}

/** Two-sided test of b against a (control): gbstats TwoSidedTTest, or its z form. */
export function twoSidedTest(control: Stat, treatment: Stat, opts: FrequentistOptions = {}): FrequentistResult {
  const [a, b] = prepareForTest(control, treatment);
  const alpha = opts.alpha ?? 0.05;
  const relative = (opts.differenceType ?? 'relative') === 'relative';
  const err = guard(a, b);
  if (err) return defaultOutput(err);
  const { point, v } = pointAndVariance(a, b, relative);
  const se = Math.sqrt(v);
  const stat = (point - (opts.testValue ?? 0)) / se;
  if (opts.distribution === 'z') {
    const width = normPpf(1 - alpha / 2) * se;
    return { expected: point, ci: [point - width, point + width], pValue: 2 * (1 - normCdf(Math.abs(stat))), stddev: se };
  }
  const dof = welchDof(a, b);
  const width = studentPpf(1 - alpha / 2, dof) * se;
  return { expected: point, ci: [point - width, point + width], pValue: 2 * (1 - studentCdf(Math.abs(stat), dof)), stddev: se, dof };
}

/** rho of the GAVI mixture (eq. 161 of Waudby-Smith et al., as gbstats computes it). */
export function gaviRho(alpha: number, tuning: number): number {
  return Math.sqrt((-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning);
}

/**
 * Half-width of the asymptotic always-valid confidence sequence (GAVI, eq. 9 of Waudby-Smith et
 * al. 2023) for an estimate whose variance is `v` with N units in total: valid under continuous
 * peeking, not just at a fixed horizon.
 */
export function gaviHalfWidth(v: number, N: number, alpha: number, tuning: number): number {
  const rho = gaviRho(alpha, tuning);
  const s2 = v * N;
  const nr2 = N * rho * rho + 1;
  return Math.sqrt(s2) * Math.sqrt((2 * nr2 * Math.log(Math.sqrt(nr2) / alpha)) / (N * rho) ** 2);
}

/** Sequential two-sided test: gbstats SequentialTwoSidedTTest (confidence sequence and its always-valid p-value). */
export function sequentialTest(control: Stat, treatment: Stat, opts: SequentialOptions = {}): FrequentistResult {
  const [a, b] = prepareForTest(control, treatment);
  const alpha = opts.alpha ?? 0.05;
  const tuning = opts.tuning ?? 5000;
  const relative = (opts.differenceType ?? 'relative') === 'relative';
  const err = guard(a, b);
  if (err) return defaultOutput(err);
  const { point, v } = pointAndVariance(a, b, relative);
  const N = a.n + b.n;
  const width = gaviHalfWidth(v, N, alpha, tuning);
  const rho = gaviRho(alpha, tuning);
  const st2 = ((point - (opts.testValue ?? 0)) ** 2 * N) / v;
  const tr2p1 = N * rho * rho + 1;
  const evalue = Math.exp((rho * rho * st2) / (2 * tr2p1)) / Math.sqrt(tr2p1);
  return { expected: point, ci: [point - width, point + width], pValue: Math.min(1 / evalue, 1), stddev: Math.sqrt(v) };
}
