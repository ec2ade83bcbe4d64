import { logit, sigmoid } from './math';

/**
 * Per-item click posteriors (issue 12).
 *
 * Logistic correction of the ranker's score, with a hierarchical Gaussian prior:
 *   logit P(click | examined) = a * logit(pCTR) + b_group + d_item,   b_item = b_group + d_item
 *   a ~ N(aMean, 1/aPrecision), b_group ~ N(0, 1/groupPrecision), d_item ~ N(0, 1/itemPrecision)
 * so an item's effect shrinks to its group's, and the group's to 0; a cold item (d = 0) starts
 * from its group's posterior. Updated online with the diagonal Laplace approximation of Chapelle
 * & Li (2011, Algorithm 3): each weight keeps a mean m and a precision q; an observation moves the
 * means to the mode of  1/2 sum_i q_i (w_i - m_i)^2 + weight * logloss(y, x.w)  and adds
 * weight * x_i^2 p (1 - p) to each q_i. With a diagonal prior the mode lies on the line
 * w_i = m_i - weight * (sigmoid(z) - y) x_i / q_i, so it is a 1-D Newton solve in z = x.w.
 *
 * Examination: a click means the item was examined; a skip at a position examined with probability
 * e is a negative with weight P(examined | skip) = e (1 - p) / (1 - e p) (the E-step of the
 * position-based model), so a skip at position 9 counts for less than one at position 1.
 *
 * Beta-Bernoulli option: the same stored click and (examination-weighted) exposure counts give
 * Beta(kappa * mu_g + clicks, kappa * (1 - mu_g) + exposures - clicks) per item, where mu_g is the
 * group's posterior mean under Beta(1, 1) and kappa its pseudo-count strength.
 */

/** One Gaussian weight of the diagonal Laplace posterior plus its counts (for the Beta option). */
export interface Effect {
  /** posterior mean */
  m: number;
  /** posterior precision (1 / variance) */
  q: number;
  /** clicks seen */
  clicks: number;
  /** examination-weighted exposures (a click counts 1, a skip its weight) */
  exposures: number;
}

export interface LogisticPrior {
  /** prior mean of the score slope a (1 = trust the ranker's calibration) */
  aMean: number;
  aPrecision: number;
  groupPrecision: number;
  itemPrecision: number;
}

/**
 * Default prior: the ranker is taken as roughly calibrated (slope sd 0.25 around 1), groups and
 * items deviate from it by sd 0.5 each on the logit scale (a factor ~1.6 on the odds).
 */
export const DEFAULT_PRIOR: LogisticPrior = { aMean: 1, aPrecision: 16, groupPrecision: 4, itemPrecision: 4 };

export const newEffect = (m: number, q: number): Effect => ({ m, q, clicks: 0, exposures: 0 });

/** The posterior state an observation touches: the global slope, the item's group and the item. */
export interface ItemPosterior {
  slope: Effect;
  group: Effect;
  item: Effect;
}

export interface Observation {
  /** the ranker's pCTR at serving time */
  pctr: number;
  clicked: boolean;
  /** probability the position was examined (1 for a click, or under the cascade model above the last click) */
  examination: number;
}

/** P(examined | not clicked) at the prior mean: the weight of a skip. */
export function skipWeight(examination: number, pClickIfExamined: number): number {
  const e = Math.min(1, Math.max(0, examination));
  if (e === 0) return 0;
  return (e * (1 - pClickIfExamined)) / (1 - e * pClickIfExamined);
}

/** Posterior mean of the logit of P(click | examined) for a pCTR. */
export function meanLogit(p: ItemPosterior, pctr: number): number {
  return p.slope.m * logit(pctr) + p.group.m + p.item.m;
}

/** Posterior variance of that logit (the weights are independent under the diagonal approximation). */
export function varLogit(p: ItemPosterior, pctr: number): number {
  const l = logit(pctr);
  return (l * l) / p.slope.q + 1 / p.group.q + 1 / p.item.q;
}

/**
 * Applies one observation in place (diagonal Laplace, one Newton solve). Returns the weight it
 * entered with (0 for an unexamined skip, which changes nothing).
 */
export function observeLogistic(p: ItemPosterior, obs: Observation, opts: { learnSlope?: boolean } = {}): number {
  const l = logit(obs.pctr);
  const xa = opts.learnSlope === false ? 0 : l;
  const z0 = p.slope.m * l + p.group.m + p.item.m;
  const y = obs.clicked ? 1 : 0;
  const w = obs.clicked ? 1 : skipWeight(obs.examination, sigmoid(z0));
  if (w <= 0) return 0;
  const s = (xa * xa) / p.slope.q + 1 / p.group.q + 1 / p.item.q;
  // Solve h(z) = z - z0 + w s (sigmoid(z) - y) = 0 (monotone increasing in z).
  let z = z0;
  for (let it = 0; it < 30; it++) {
    const sg = sigmoid(z);
    const h = z - z0 + w * s * (sg - y);
    const dh = 1 + w * s * sg * (1 - sg);
    const step = h / dh;
    z -= step;
    if (Math.abs(step) < 1e-12) break;
  }
  const sg = sigmoid(z);
  const g = w * (sg - y);
  const hess = w * sg * (1 - sg);
  p.slope.m -= (g * xa) / p.slope.q;
  p.group.m -= g / p.group.q;
  p.item.m -= g / p.item.q;
  p.slope.q += hess * xa * xa;
  p.group.q += hess;
  p.item.q += hess;
  for (const e of [p.group, p.item]) {
    e.exposures += w;
    if (obs.clicked) e.clicks += 1;
  }
  return w;
}

/** Beta-Bernoulli option: Beta parameters of an item from its and its group's counts. */
export function betaParams(group: Effect, item: Effect, kappa = 20): { alpha: number; beta: number } {
  const mu = (1 + group.clicks) / (2 + group.exposures);
  const strength = Math.min(kappa, 2 + group.exposures);
  const clicks = Math.min(item.clicks, item.exposures);
  return { alpha: strength * mu + clicks, beta: strength * (1 - mu) + Math.max(0, item.exposures - clicks) };
}

/** The weight a Beta-Bernoulli skip enters with, from the Beta mean (same E-step as the logistic model). */
export function betaSkipWeight(group: Effect, item: Effect, examination: number, kappa = 20): number {
  const { alpha, beta } = betaParams(group, item, kappa);
  return skipWeight(examination, alpha / (alpha + beta));
}

/**
 * Batch MAP fit of the same model (full Newton on the three weights with the same Gaussian
 * prior): the reference the online Laplace posterior is tested against.
 */
export function batchFit(prior: { a: Effect; group: Effect; item: Effect }, data: { pctr: number; clicked: boolean; weight: number }[], iterations = 50): { a: number; group: number; item: number } {
  const m0 = [prior.a.m, prior.group.m, prior.item.m];
  const q0 = [prior.a.q, prior.group.q, prior.item.q];
  const w = [...m0];
  for (let it = 0; it < iterations; it++) {
    const g = [0, 0, 0].map((_, i) => q0[i] * (w[i] - m0[i]));
    const H = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? q0[i] : 0)));
    for (const d of data) {
      const x = [logit(d.pctr), 1, 1];
      const p = sigmoid(x[0] * w[0] + w[1] + w[2]);
      for (let i = 0; i < 3; i++) {
        g[i] += d.weight * (p - (d.clicked ? 1 : 0)) * x[i];
        for (let j = 0; j < 3; j++) H[i][j] += d.weight * p * (1 - p) * x[i] * x[j];
      }
    }
    const step = solve3(H, g);
    for (let i = 0; i < 3; i++) w[i] -= step[i];
    if (Math.hypot(...step) < 1e-10) break;
  }
  return { a: w[0], group: w[1], item: w[2] };
}

function solve3(A: number[][], b: number[]): number[] {
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k < 4; k++) M[r][k] -= f * M[c][k];
    }
  }
  return [0, 1, 2].map((i) => M[i][3] / M[i][i]);
}
