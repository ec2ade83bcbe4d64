import { normCdf, normPdf, normPpf, normSf } from './distributions';
import { liftEstimate, liftVariance, type DifferenceType } from './frequentist';
import { hasZeroVariance, mean, prepareForTest, type Stat, unadjustedMean, variance } from './statistics';

export interface GaussianPrior {
  mean: number;
  variance: number;
  /** An improper (flat) prior when false: the posterior is the data's normal approximation. */
  proper: boolean;
}

export interface BayesianOptions {
  alpha?: number;
  differenceType?: DifferenceType;
  /** Lower is better (e.g. hide rate): chance to win and risks flip. */
  inverse?: boolean;
  /** Prior on the effect, on the scale of differenceType (gbstats prior_type equal to difference type). */
  prior?: GaussianPrior;
}

export interface BayesianResult {
  chanceToWin: number;
  expected: number;
  ci: [number, number];
  stddev: number;
  /** Expected loss [of choosing control, of choosing the treatment]. */
  risk: [number, number];
  errorMessage?: string;
}

/**
 * Expected loss of each choice under a normal posterior N(mu, sigma^2) of the lift
 * (gbstats EffectBayesianABTest.get_risk, in closed form): choosing control loses
 * E[max(lift, 0)], choosing the treatment loses E[max(-lift, 0)].
 */
export function gaussianRisk(mu: number, sigma: number): [number, number] {
  const z = -mu / sigma;
  const pCtrlBetter = normCdf(0, mu, sigma);
  const phi = normPdf(z);
  const riskCtrl = (1 - pCtrlBetter) * mu + sigma * phi;
  const riskTrt = -pCtrlBetter * mu + sigma * phi;
  return [riskCtrl, riskTrt];
}

/** GrowthBook's Gaussian (effect) Bayesian engine: gbstats EffectBayesianABTest. */
export function bayesianTest(control: Stat, treatment: Stat, opts: BayesianOptions = {}): BayesianResult {
  const [a, b] = prepareForTest(control, treatment);
  const alpha = opts.alpha ?? 0.05;
  const relative = (opts.differenceType ?? 'relative') === 'relative';
  const prior = opts.prior ?? { mean: 0, variance: 1, proper: false };
  const fallback = (errorMessage: string): BayesianResult => ({ chanceToWin: 0.5, expected: 0, ci: [0, 0], stddev: 0, risk: [0, 0], errorMessage });
  if ((mean(a) === 0 || unadjustedMean(a) === 0) && relative) return fallback('ZERO_NEGATIVE_BASELINE_VARIATION');
  if (a.n === 0 || b.n === 0) return fallback('NO_UNITS_IN_VARIATION');
  if (hasZeroVariance(a) || hasZeroVariance(b)) return fallback('ZERO_NEGATIVE_VARIANCE');
  const dataVariance = liftVariance(variance(a), unadjustedMean(a), a.n, variance(b), unadjustedMean(b), b.n, relative);
  const dataMean = liftEstimate(mean(a), mean(b), relative, unadjustedMean(a));
  const postPrec = 1 / dataVariance + (prior.proper ? 1 : 0) / prior.variance;
  const mu = prior.proper ? (dataMean / dataVariance + prior.mean / prior.variance) / postPrec : dataMean;
  const sigma = Math.sqrt(1 / postPrec);
  const win = normSf(0, mu, sigma);
  const chanceToWin = opts.inverse ? 1 - win : win;
  const risk = gaussianRisk(mu, sigma);
  return {
    chanceToWin,
    expected: mu,
    ci: [normPpf(alpha / 2, mu, sigma), normPpf(1 - alpha / 2, mu, sigma)],
    stddev: sigma,
    risk: opts.inverse ? [risk[1], risk[0]] : risk,
  };
}
