import { ESTIMATORS, estimateAll, type EstimateResult, type EstimatorName } from '@recsys/ope';
import { actionProbabilities, type PolicyParams } from './policy';

/** One logged decision with its joined outcome. */
export interface LoggedRound {
  contextKey: string;
  action: number;
  propensity: number;
  satisfaction: number;
  revenue: number;
}

export interface LearnOptions {
  nActions: number;
  /** Objective = satisfaction + lambda * revenue. */
  lambda: number;
  epsilon: number;
  /** Softmax temperature of the learned candidate, in objective units. */
  temperature: number;
  /** Satisfaction guardrail: a candidate's satisfaction lower bound may be at most this far below the live policy's estimate. */
  tolerance: number;
  alpha?: number;
  /** Estimator whose interval decides (default 'dr'). */
  decisionEstimator?: EstimatorName;
  /** Shrinkage (pseudo-rounds) of the tabular reward model toward the per-action mean. */
  shrinkage?: number;
  /** Bootstrap resamples per interval (0: normal intervals only). Default 200. */
  bootstrapResamples?: number;
}

export interface Interval {
  value: number;
  lower: number;
  upper: number;
}

export interface PolicyEvaluation {
  name: string;
  kind: 'live' | 'learned' | 'fixed';
  params: PolicyParams;
  /** Per estimator: objective, satisfaction and revenue with normal and bootstrap intervals and ESS. */
  estimators: Record<string, { objective: Est; satisfaction: Est; revenue: Est }>;
  decision: { objective: Interval; satisfaction: Interval };
  guardrailOk: boolean;
}

interface Est {
  value: number;
  normal: { lower: number; upper: number };
  bootstrap?: { lower: number; upper: number };
  ess: number;
}

export interface LearnResult {
  rounds: number;
  live: PolicyEvaluation;
  candidates: PolicyEvaluation[];
  /** Best eligible candidate by the objective's lower bound (undefined: none passes the guardrail or beats the live bound). */
  winner?: PolicyEvaluation;
  /** The promotion rule: winner's objective lower bound > the live policy's objective estimate. */
  promotable: boolean;
  reason: string;
}

/** Tabular reward model: mean per (context, action), shrunk toward the action's mean. */
export function fitTabular(rounds: LoggedRound[], nActions: number, target: (r: LoggedRound) => number, m: number): { q: (key: string, a: number) => number } {
  const sum = new Map<string, Float64Array>();
  const cnt = new Map<string, Float64Array>();
  const aSum = new Float64Array(nActions);
  const aCnt = new Float64Array(nActions);
  for (const r of rounds) {
    let s = sum.get(r.contextKey);
    let c = cnt.get(r.contextKey);
    if (!s || !c) {
      sum.set(r.contextKey, (s = new Float64Array(nActions)));
      cnt.set(r.contextKey, (c = new Float64Array(nActions)));
    }
    const y = target(r);
    s[r.action] += y;
    c[r.action]++;
    aSum[r.action] += y;
    aCnt[r.action]++;
  }
  let all = 0;
  for (let a = 0; a < nActions; a++) all += aSum[a];
  const grand = rounds.length ? all / rounds.length : 0;
  const prior = Array.from({ length: nActions }, (_, a) => (aCnt[a] ? (aSum[a] + m * grand) / (aCnt[a] + m) : grand));
  return {
    q(key, a) {
      const s = sum.get(key);
      const c = cnt.get(key);
      if (!s || !c) return prior[a];
      return (s[a] + m * prior[a]) / (c[a] + m);
    },
  };
}

function evaluate(name: string, kind: PolicyEvaluation['kind'], params: PolicyParams, rounds: LoggedRound[], models: Models, o: Required<LearnOptions>): Omit<PolicyEvaluation, 'guardrailOk'> {
  const n = rounds.length;
  const A = o.nActions;
  const actionDist = new Float64Array(n * A);
  const probs = new Float64Array(A);
  for (let i = 0; i < n; i++) actionDist.set(actionProbabilities(params, rounds[i].contextKey, A, probs), i * A);
  const out: PolicyEvaluation['estimators'] = {};
  const base = { action: rounds.map((r) => r.action), pscore: rounds.map((r) => r.propensity), nActions: A, actionDist };
  const run = (target: (r: LoggedRound) => number, q: (k: string, a: number) => number) => {
    const qHat = new Float64Array(n * A);
    for (let i = 0; i < n; i++) for (let a = 0; a < A; a++) qHat[i * A + a] = q(rounds[i].contextKey, a);
    return estimateAll({ ...base, reward: rounds.map(target), qHat }, { alpha: o.alpha, bootstrap: o.bootstrapResamples > 0 ? { n: o.bootstrapResamples, seed: 20240 } : false });
  };
  const obj = run((r) => r.satisfaction + o.lambda * r.revenue, models.objective.q);
  const sat = run((r) => r.satisfaction, models.satisfaction.q);
  const rev = run((r) => r.revenue, models.revenue.q);
  const pick = (e: EstimateResult): Est => ({
    value: e.value,
    normal: { lower: e.ci.lower, upper: e.ci.upper },
    bootstrap: e.bootstrap && { lower: e.bootstrap.lower, upper: e.bootstrap.upper },
    ess: e.ess,
  });
  obj.forEach((e, k) => (out[e.estimator] = { objective: pick(e), satisfaction: pick(sat[k]), revenue: pick(rev[k]) }));
  const d = out[o.decisionEstimator];
  return {
    name,
    kind,
    params,
    estimators: out,
    decision: {
      objective: { value: d.objective.value, lower: d.objective.normal.lower, upper: d.objective.normal.upper },
      satisfaction: { value: d.satisfaction.value, lower: d.satisfaction.normal.lower, upper: d.satisfaction.normal.upper },
    },
  };
}

interface Models {
  objective: ReturnType<typeof fitTabular>;
  satisfaction: ReturnType<typeof fitTabular>;
  revenue: ReturnType<typeof fitTabular>;
}

/**
 * One learning step over a window of logs: fit the reward models, learn a candidate (per-context
 * DR estimates of each action's value -> softmax with the epsilon floor, and its greedy form),
 * evaluate it, every fixed density and the live policy with every estimator, and pick the
 * candidate with the best lower 95% bound of the objective among those whose satisfaction lower
 * bound is no worse than the live policy's by more than the tolerance.
 */
export function learn(rounds: LoggedRound[], live: PolicyParams, opts: LearnOptions): LearnResult {
  const o: Required<LearnOptions> = { alpha: 0.05, decisionEstimator: 'dr', shrinkage: 5, bootstrapResamples: 200, ...opts };
  if (!ESTIMATORS.includes(o.decisionEstimator)) throw new RangeError(`unknown estimator ${o.decisionEstimator}`);
  const A = o.nActions;
  const objective = (r: LoggedRound) => r.satisfaction + o.lambda * r.revenue;
  const models: Models = {
    objective: fitTabular(rounds, A, objective, o.shrinkage),
    satisfaction: fitTabular(rounds, A, (r) => r.satisfaction, o.shrinkage),
    revenue: fitTabular(rounds, A, (r) => r.revenue, o.shrinkage),
  };
  // Per-context DR value of each action: q(x, a) + mean over the context's rounds of 1[a_i = a] / p_i (r_i - q(x, a)).
  const byKey = new Map<string, LoggedRound[]>();
  for (const r of rounds) (byKey.get(r.contextKey) ?? byKey.set(r.contextKey, []).get(r.contextKey)!).push(r);
  const values: Record<string, number[]> = {};
  for (const [key, rs] of byKey) {
    const v = Array.from({ length: A }, (_, a) => models.objective.q(key, a));
    const corr = new Float64Array(A);
    for (const r of rs) {
      corr[r.action] += (objective(r) - v[r.action]) / r.propensity;
    }
    values[key] = v.map((x, a) => x + corr[a] / rs.length);
  }
  const defaults = Array.from({ length: A }, (_, a) => models.objective.q('\u0000none', a));
  const learned: PolicyParams = { temperature: o.temperature, epsilon: o.epsilon, values, defaults };
  const greedy: PolicyParams = { temperature: 0, epsilon: o.epsilon, values, defaults };
  const fixed = Array.from({ length: A }, (_, a) => ({
    name: `fixed-${a}`,
    params: { temperature: 0, epsilon: o.epsilon, values: {}, defaults: Array.from({ length: A }, (_, b) => (b === a ? 1 : 0)) } as PolicyParams,
  }));
  const liveEval = { ...evaluate('live', 'live', live, rounds, models, o), guardrailOk: true };
  // The guardrail: a candidate's satisfaction lower bound must not fall below the live policy's
  // estimate by more than the tolerance (so a staged policy loses at most `tolerance` with ~97.5% confidence).
  const floor = liveEval.decision.satisfaction.value - o.tolerance;
  const candidates: PolicyEvaluation[] = [
    { name: 'learned-softmax', kind: 'learned' as const, params: learned },
    { name: 'learned-greedy', kind: 'learned' as const, params: greedy },
    ...fixed.map((f) => ({ ...f, kind: 'fixed' as const })),
  ].map((c) => {
    const e = evaluate(c.name, c.kind, c.params, rounds, models, o);
    return { ...e, guardrailOk: e.decision.satisfaction.lower >= floor };
  });
  const eligible = candidates.filter((c) => c.guardrailOk).sort((a, b) => b.decision.objective.lower - a.decision.objective.lower);
  const best = eligible[0];
  let winner: PolicyEvaluation | undefined;
  let reason: string;
  if (!best) reason = `no candidate keeps the satisfaction lower bound within ${o.tolerance} of the live policy's estimate (${liveEval.decision.satisfaction.value.toFixed(4)})`;
  else if (!(best.decision.objective.lower > liveEval.decision.objective.lower)) reason = `best eligible candidate ${best.name} does not beat the live policy's objective lower bound`;
  else {
    winner = best;
    reason = `${best.name}: objective lower bound ${best.decision.objective.lower.toFixed(4)} vs live ${liveEval.decision.objective.lower.toFixed(4)} (estimate ${liveEval.decision.objective.value.toFixed(4)})`;
  }
  const promotable = !!winner && winner.decision.objective.lower > liveEval.decision.objective.value;
  return { rounds: rounds.length, live: liveEval, candidates, winner, promotable, reason };
}
