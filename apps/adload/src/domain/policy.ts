/**
 * The serving policy: a table of estimated values per (context key, action) turned into a softmax
 * with an epsilon floor, so every action keeps probability >= epsilon / |A| (the logging policy's
 * support covers every candidate policy, which off-policy evaluation needs).
 */
export interface SurfaceConfig {
  /** Ads per page of each action (e.g. [0, 1, 2, 3]). */
  actions: number[];
  /** Items per page; ad positions are spread evenly over it. */
  pageSize: number;
  /** Weight of revenue (per 1,000 micros... see reward.ts) in the objective. */
  lambda: number;
}

export interface DecisionContext {
  surface: string;
  sessionFetchIndex: number;
  /** Segment from the behaviour history or the caller (e.g. 'new', 'casual', 'heavy'). */
  segment: string;
  /** Ad tolerance 0..1 (share of ads the user engaged with rather than hid), when known. */
  adTolerance?: number;
  hour: number;
}

export interface PolicyParams {
  temperature: number;
  epsilon: number;
  /** Estimated value per action for each context key; missing keys use `defaults`. */
  values: Record<string, number[]>;
  defaults: number[];
}

export interface Policy {
  policyId: string;
  surface: string;
  version: number;
  params: PolicyParams;
}

export function toleranceBucket(t: number | undefined): string {
  if (t === undefined) return 'tol?';
  return t < 0.33 ? 'tolLow' : t < 0.66 ? 'tolMid' : 'tolHigh';
}

export function fetchBucket(i: number): string {
  return i === 0 ? 'f0' : i <= 2 ? 'f1-2' : i <= 5 ? 'f3-5' : 'f6+';
}

export function hourBucket(h: number): string {
  return h < 6 ? 'night' : h < 12 ? 'morning' : h < 18 ? 'afternoon' : 'evening';
}

/** The discrete context the tables are keyed by. */
export function contextKey(c: DecisionContext): string {
  return `${c.segment}|${toleranceBucket(c.adTolerance)}|${fetchBucket(c.sessionFetchIndex)}|${hourBucket(c.hour)}`;
}

/** Action probabilities: (1 - epsilon) softmax(values / temperature) + epsilon / |A|. */
export function actionProbabilities(params: PolicyParams, key: string, nActions: number, out = new Float64Array(nActions)): Float64Array {
  const v = params.values[key] ?? params.defaults;
  const eps = params.epsilon;
  const tau = params.temperature;
  if (!Number.isFinite(tau) || tau <= 0) {
    // Greedy with the floor: the argmax takes the remaining mass.
    let best = 0;
    for (let a = 1; a < nActions; a++) if ((v[a] ?? 0) > (v[best] ?? 0)) best = a;
    for (let a = 0; a < nActions; a++) out[a] = eps / nActions + (a === best ? 1 - eps : 0);
    return out;
  }
  let max = -Infinity;
  for (let a = 0; a < nActions; a++) max = Math.max(max, (v[a] ?? 0) / tau);
  let z = 0;
  for (let a = 0; a < nActions; a++) z += out[a] = Math.exp((v[a] ?? 0) / tau - max);
  for (let a = 0; a < nActions; a++) out[a] = (1 - eps) * (out[a] / z) + eps / nActions;
  return out;
}

/** Inverse-CDF draw of an action from probabilities with a uniform u in [0, 1). */
export function drawAction(p: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let a = 0; a < p.length; a++) {
    acc += p[a];
    if (u < acc) return a;
  }
  return p.length - 1;
}

/** Page positions (0-based) of k ads spread evenly over a page of n items plus the ads. */
export function adPositions(k: number, pageSize: number): number[] {
  const total = pageSize + k;
  const out: number[] = [];
  for (let j = 1; j <= k; j++) out.push(Math.min(total - 1, Math.round((j * total) / (k + 1))));
  return out;
}

/** The uniform-random policy every surface starts with (all values equal). */
export function uniformParams(nActions: number, epsilon: number, temperature: number): PolicyParams {
  return { temperature, epsilon, values: {}, defaults: new Array(nActions).fill(0) };
}
