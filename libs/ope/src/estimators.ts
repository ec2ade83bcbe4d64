import { bootstrapInterval, mean, normalInterval, sampleSd, type BootstrapInterval, type BootstrapOptions, type Interval, type Vec } from './stats';

/**
 * Logged bandit feedback and what the estimators need about the evaluation policy, in obp's
 * layout: `actionDist` and `qHat` are flattened `[n][nActions][lenList]` arrays (index
 * `(i * nActions + a) * lenList + p`), `position` is 0-based (obp's `position`), `pscore` is the
 * logging policy's probability of the logged action at the logged position.
 */
export interface BanditFeedback {
  reward: Vec;
  action: Vec;
  pscore: Vec;
  /** 0-based slot of each round; all 0 when absent. */
  position?: Vec;
  nActions: number;
  /** Slots per round (obp's len_list); 1 when absent. */
  lenList?: number;
  /** pi_e(a | x_i, position), flattened [n][nActions][lenList]. */
  actionDist: Vec;
  /** Reward-model estimates q(x_i, a, position), same layout; needed by DM and the DR family. */
  qHat?: Vec;
}

export const ESTIMATORS = ['dm', 'ips', 'clipped_ips', 'snips', 'dr', 'sndr', 'switch_dr', 'dros'] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

export interface EstimatorOptions {
  /** Weight cap of clipped IPS (obp IPW lambda_). Default 10. */
  clipLambda?: number;
  /** Switch-DR threshold: rounds with weight above it use DM only (obp SwitchDR lambda_). Default 10. */
  switchLambda?: number;
  /** DRos shrinkage lambda (obp DoublyRobustWithShrinkage lambda_). Default 10. */
  drosLambda?: number;
  /** 1 - level of both intervals. Default 0.05. */
  alpha?: number;
  /** Seeded bootstrap; `false` skips it. Default 1,000 resamples, seed 12345. */
  bootstrap?: BootstrapOptions | false;
}

export interface EstimateResult {
  estimator: EstimatorName;
  /** The policy value estimate (obp's estimate_policy_value). */
  value: number;
  /** Per-round contributions (obp's _estimate_round_rewards): their mean is `value`. */
  contributions: Float64Array;
  /** Kish effective sample size of the importance weights the estimator applies (n for DM). */
  ess: number;
  n: number;
  /** Standard error from the influence function (delta method for the self-normalised ones). */
  stdErr: number;
  ci: Interval;
  bootstrap?: BootstrapInterval;
}

interface Prepared {
  n: number;
  nActions: number;
  lenList: number;
  pos: (i: number) => number;
  /** w_i = pi_e(a_i | x_i, p_i) / pscore_i */
  w: Float64Array;
  /** sum_a pi_e(a|x_i,p_i) q(x_i,a,p_i) / sum_a pi_e(a|x_i,p_i) (np.average over actions) */
  dm?: Float64Array;
  /** q(x_i, a_i, p_i) */
  qFactual?: Float64Array;
  reward: Vec;
}

function prepare(d: BanditFeedback): Prepared {
  const n = d.reward.length;
  const nActions = d.nActions;
  const lenList = d.lenList ?? 1;
  if (d.action.length !== n || d.pscore.length !== n) throw new RangeError('reward, action and pscore must have the same length');
  if (d.position && d.position.length !== n) throw new RangeError('position must have one entry per round');
  if (d.actionDist.length !== n * nActions * lenList) throw new RangeError(`actionDist must have n*nActions*lenList = ${n * nActions * lenList} entries`);
  if (d.qHat && d.qHat.length !== n * nActions * lenList) throw new RangeError('qHat must have the same layout as actionDist');
  const position = d.position;
  const pos = position ? (i: number) => position[i] : () => 0;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = d.action[i];
    const p = pos(i);
    if (!(a >= 0 && a < nActions) || !(p >= 0 && p < lenList)) throw new RangeError(`round ${i}: action or position out of range`);
    if (!(d.pscore[i] > 0)) throw new RangeError(`round ${i}: pscore must be > 0`);
    w[i] = d.actionDist[(i * nActions + a) * lenList + p] / d.pscore[i];
  }
  const out: Prepared = { n, nActions, lenList, pos, w, reward: d.reward };
  if (d.qHat) {
    const q = d.qHat;
    const dm = new Float64Array(n);
    const qf = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = pos(i);
      let num = 0;
      let den = 0;
      for (let a = 0; a < nActions; a++) {
        const k = (i * nActions + a) * lenList + p;
        num += d.actionDist[k] * q[k];
        den += d.actionDist[k];
      }
      dm[i] = num / den;
      qf[i] = q[(i * nActions + d.action[i]) * lenList + p];
    }
    out.dm = dm;
    out.qFactual = qf;
  }
  return out;
}

function kish(w: ArrayLike<number>): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 === 0 ? 0 : (s * s) / s2;
}

/** Contributions, the weights applied, and the influence values for the standard error. */
function compute(name: EstimatorName, p: Prepared, o: Required<Pick<EstimatorOptions, 'clipLambda' | 'switchLambda' | 'drosLambda'>>) {
  const { n, w, reward: r } = p;
  const c = new Float64Array(n);
  let applied: Float64Array = w;
  let influence: Float64Array | undefined;
  const needQ = () => {
    if (!p.dm || !p.qFactual) throw new RangeError(`${name} needs qHat (reward-model estimates)`);
    return { dm: p.dm, qf: p.qFactual };
  };
  switch (name) {
    case 'dm': {
      const { dm } = needQ();
      c.set(dm);
      applied = new Float64Array(n).fill(1);
      break;
    }
    case 'ips':
      for (let i = 0; i < n; i++) c[i] = r[i] * w[i];
      break;
    case 'clipped_ips': {
      applied = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        applied[i] = Math.min(w[i], o.clipLambda);
        c[i] = r[i] * applied[i];
      }
      break;
    }
    case 'snips': {
      const wm = mean(w);
      for (let i = 0; i < n; i++) c[i] = (r[i] * w[i]) / wm;
      const v = mean(c);
      influence = new Float64Array(n);
      for (let i = 0; i < n; i++) influence[i] = (w[i] * (r[i] - v)) / wm;
      break;
    }
    case 'dr': {
      const { dm, qf } = needQ();
      for (let i = 0; i < n; i++) c[i] = dm[i] + w[i] * (r[i] - qf[i]);
      break;
    }
    case 'sndr': {
      const { dm, qf } = needQ();
      const wm = mean(w);
      for (let i = 0; i < n; i++) c[i] = dm[i] + (w[i] * (r[i] - qf[i])) / wm;
      let num = 0;
      let den = 0;
      for (let i = 0; i < n; i++) {
        num += w[i] * (r[i] - qf[i]);
        den += w[i];
      }
      const b = num / den;
      influence = new Float64Array(n);
      for (let i = 0; i < n; i++) influence[i] = dm[i] + (w[i] * (r[i] - qf[i] - b)) / wm;
      break;
    }
    case 'switch_dr': {
      const { dm, qf } = needQ();
      applied = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        applied[i] = w[i] <= o.switchLambda ? w[i] : 0;
        c[i] = dm[i] + applied[i] * (r[i] - qf[i]);
      }
      break;
    }
    case 'dros': {
      const { dm, qf } = needQ();
      applied = new Float64Array(n);
      const lam = o.drosLambda;
      for (let i = 0; i < n; i++) {
        applied[i] = lam < Infinity ? (lam * w[i]) / (w[i] * w[i] + lam) : w[i];
        c[i] = dm[i] + applied[i] * (r[i] - qf[i]);
      }
      break;
    }
    default:
      throw new RangeError(`unknown estimator ${String(name)}`);
  }
  return { c, applied, influence: influence ?? c };
}

/** One estimator on one batch of logged feedback. */
export function estimate(name: EstimatorName, data: BanditFeedback, opts: EstimatorOptions = {}): EstimateResult {
  return estimateAll(data, { ...opts, estimators: [name] })[0];
}

/** Several estimators (default: every one the data allows) sharing one preparation pass. */
export function estimateAll(data: BanditFeedback, opts: EstimatorOptions & { estimators?: readonly EstimatorName[] } = {}): EstimateResult[] {
  const p = prepare(data);
  const o = { clipLambda: opts.clipLambda ?? 10, switchLambda: opts.switchLambda ?? 10, drosLambda: opts.drosLambda ?? 10 };
  for (const [k, v] of Object.entries(o)) if (!(v >= 0) || Number.isNaN(v)) throw new RangeError(`${k} must be >= 0`);
  const alpha = opts.alpha ?? 0.05;
  const names = opts.estimators ?? ESTIMATORS.filter((e) => data.qHat || !['dm', 'dr', 'sndr', 'switch_dr', 'dros'].includes(e));
  return names.map((name) => {
    const { c, applied, influence } = compute(name, p, o);
    const value = mean(c);
    const stdErr = sampleSd(influence) / Math.sqrt(p.n);
    const res: EstimateResult = { estimator: name, value, contributions: c, ess: kish(applied), n: p.n, stdErr, ci: normalInterval(value, stdErr, alpha) };
    if (opts.bootstrap !== false) res.bootstrap = bootstrapInterval(c, { n: 1000, seed: 12345, alpha, ...(opts.bootstrap ?? {}) });
    return res;
  });
}
