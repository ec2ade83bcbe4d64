import { bootstrapInterval, normalInterval, sampleSd, type BootstrapInterval, type BootstrapOptions, type Interval, type Vec } from './stats';

/**
 * Slot-level logged slates in obp's layout: one entry per (slate, slot), `slateId` groups them.
 * IIPS takes the item-position marginals pi(a_k at slot k); RIPS the cascade products
 * pi(a_1..a_k) (the probability of the slate's first k items), for the logging and evaluation policy.
 */
export interface SlateFeedback {
  slateId: Vec;
  reward: Vec;
  position: Vec;
  behaviorPscore: Vec;
  evaluationPscore: Vec;
}

export interface SlateEstimateResult {
  estimator: 'iips' | 'rips';
  value: number;
  /** Per-slate sums of slot contributions, slates in ascending id order (obp's bootstrap samples). */
  contributions: Float64Array;
  slateIds: Float64Array;
  /** Kish effective sample size of the slot weights, in slates (divided by the slots per slate). */
  ess: number;
  n: number;
  stdErr: number;
  ci: Interval;
  bootstrap?: BootstrapInterval;
}

export interface SlateOptions {
  alpha?: number;
  bootstrap?: BootstrapOptions | false;
}

function slateEstimate(name: 'iips' | 'rips', d: SlateFeedback, opts: SlateOptions): SlateEstimateResult {
  const m = d.reward.length;
  for (const k of ['slateId', 'position', 'behaviorPscore', 'evaluationPscore'] as const) {
    if (d[k].length !== m) throw new RangeError(`${k} must have one entry per slot`);
  }
  const w = new Float64Array(m);
  const sums = new Map<number, number>();
  let total = 0;
  let sw = 0;
  let sw2 = 0;
  for (let j = 0; j < m; j++) {
    if (!(d.behaviorPscore[j] > 0)) throw new RangeError(`slot ${j}: behaviour pscore must be > 0`);
    w[j] = d.evaluationPscore[j] / d.behaviorPscore[j];
    const c = d.reward[j] * w[j];
    total += c;
    sw += w[j];
    sw2 += w[j] * w[j];
    sums.set(d.slateId[j], (sums.get(d.slateId[j]) ?? 0) + c);
  }
  const ids = Float64Array.from(sums.keys()).sort();
  const contributions = new Float64Array(ids.length);
  ids.forEach((id, k) => (contributions[k] = sums.get(id)!));
  const n = ids.length;
  const value = total / n;
  const alpha = opts.alpha ?? 0.05;
  const stdErr = sampleSd(contributions) / Math.sqrt(n);
  const res: SlateEstimateResult = {
    estimator: name,
    value,
    contributions,
    slateIds: ids,
    ess: sw2 === 0 ? 0 : (sw * sw) / sw2 / (m / n),
    n,
    stdErr,
    ci: normalInterval(value, stdErr, alpha),
  };
  if (opts.bootstrap !== false) res.bootstrap = bootstrapInterval(contributions, { n: 1000, seed: 12345, alpha, ...(opts.bootstrap ?? {}) });
  return res;
}

/** Independent IPS (obp SlateIndependentIPS): slot weights from item-position marginals. */
export function iips(d: SlateFeedback, opts: SlateOptions = {}): SlateEstimateResult {
  return slateEstimate('iips', d, opts);
}

/** Reward-interaction IPS (obp SlateRewardInteractionIPS): slot weights from cascade probabilities. */
export function rips(d: SlateFeedback, opts: SlateOptions = {}): SlateEstimateResult {
  return slateEstimate('rips', d, opts);
}
