import {
  ChoiceContext,
  createPolicy,
  defaultExamination,
  estimatePbm,
  GaussianBeliefs,
  newEffect,
  observeLogistic,
  Rng,
  logit,
  DEFAULT_PRIOR,
  type Effect,
  type PolicyId,
  type PositionCount,
  BayesUcbPolicy,
} from '@recsys/bandits';
import { Episode, type World } from './worlds';

/** The requests of one seed, drawn once and replayed for every policy (common random numbers, clicks included). */
export interface Stream {
  T: number;
  contexts: Int32Array;
  /** T x m candidate item indices */
  candidates: Int32Array;
  /** T x k uniforms deciding the clicks */
  clickU: Float64Array;
  pctr: Float64Array;
}

export function makeStream(world: World, seed: number, T: number): Stream {
  const ep = new Episode(world, seed);
  const m = world.candidates;
  const k = world.slateSize;
  const contexts = new Int32Array(T);
  const candidates = new Int32Array(T * m);
  for (let t = 0; t < T; t++) {
    const r = ep.request();
    contexts[t] = r.context;
    candidates.set(r.candidates, t * m);
  }
  const u = new Rng(seed * 7919 + 3);
  const clickU = Float64Array.from({ length: T * k }, () => u.nextDouble());
  return { T, contexts, candidates, clickU, pctr: ep.pctr };
}

export interface RunResult {
  policy: string;
  seed: number;
  /** checkpoints (request counts) and cumulative figures there */
  at: number[];
  clicks: number[];
  regret: number[];
  /** clicks after the first 10% of rounds */
  clicksAfter10: number;
  distinctGroups: number;
  oracleClicks: number;
  seconds: number;
}

/** What a policy does per request: pick k item indices given the context and candidates; learn from the clicks. */
export interface Agent {
  name: string;
  choose(t: number, context: number, candidates: Int32Array): number[] | Promise<number[]>;
  learn(t: number, context: number, candidates: Int32Array, slate: number[], clicks: boolean[]): void | Promise<void>;
  close?(): Promise<void>;
}

export async function runAgent(world: World, stream: Stream, seed: number, agent: Agent, checkpoints = 50): Promise<RunResult> {
  const t0 = process.hrtime.bigint();
  const { T } = stream;
  const m = world.candidates;
  const k = world.slateSize;
  const n = world.items.length;
  const e = world.examination;
  const every = Math.max(1, Math.floor(T / checkpoints));
  const at: number[] = [];
  const clicksCurve: number[] = [];
  const regretCurve: number[] = [];
  let clicks = 0;
  let regret = 0;
  let oracle = 0;
  let after10 = 0;
  let groupsSum = 0;
  const tenth = Math.floor(T / 10);
  const attrBuf = new Float64Array(m);
  for (let t = 0; t < T; t++) {
    const c = stream.contexts[t];
    const cands = stream.candidates.subarray(t * m, (t + 1) * m);
    const slate = await agent.choose(t, c, cands);
    // oracle: best k attractiveness into the most examined slots
    for (let j = 0; j < m; j++) attrBuf[j] = world.attr[c * n + cands[j]];
    const sorted = Array.from(attrBuf).sort((a, b) => b - a);
    let best = 0;
    for (let s = 0; s < k; s++) best += e[s] * sorted[s];
    let got = 0;
    const clicked: boolean[] = [];
    const groups = new Set<number>();
    for (let s = 0; s < slate.length; s++) {
      const i = slate[s];
      const p = e[s] * world.attr[c * n + i];
      got += p;
      const y = stream.clickU[t * k + s] < p;
      clicked.push(y);
      if (y) {
        clicks++;
        if (t >= tenth) after10++;
      }
      groups.add(world.group[i]);
    }
    groupsSum += groups.size;
    regret += best - got;
    oracle += best;
    await agent.learn(t, c, cands, slate, clicked);
    if ((t + 1) % every === 0 || t === T - 1) {
      at.push(t + 1);
      clicksCurve.push(clicks);
      regretCurve.push(regret);
    }
  }
  await agent.close?.();
  return {
    policy: agent.name,
    seed,
    at,
    clicks: clicksCurve,
    regret: regretCurve,
    clicksAfter10: after10,
    distinctGroups: groupsSum / T,
    oracleClicks: oracle,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  };
}

/**
 * The libs/bandits learner: hierarchical logistic posteriors updated online (diagonal Laplace), skips
 * weighted by the examination it estimates itself by EM from its own logs (re-estimated 20 times a run),
 * slates from one of the SlatePolicy implementations.
 */
export class BanditAgent implements Agent {
  readonly name: string;
  private slope: Effect = newEffect(DEFAULT_PRIOR.aMean, DEFAULT_PRIOR.aPrecision);
  private groups: Effect[];
  private items: Effect[];
  private exam: number[];
  private counts: Map<number, PositionCount> = new Map();
  private readonly policy;
  private readonly rng: Rng;
  private readonly emEvery: number;

  constructor(
    private readonly world: World,
    private readonly stream: Stream,
    policyId: PolicyId,
    seed: number,
    opts: { epsilon?: number; groupCap?: number; explore?: number; ucbLevel?: number; label?: string } = {},
  ) {
    this.policy = policyId === 'bayes-ucb' && opts.ucbLevel !== undefined ? new BayesUcbPolicy(0, 0.999, opts.ucbLevel) : createPolicy(policyId, { epsilon: opts.epsilon });
    this.name = opts.label ?? this.policy.id;
    this.explore = opts.explore ?? 1;
    this.groups = world.groupNames.map(() => newEffect(0, DEFAULT_PRIOR.groupPrecision));
    this.items = world.items.map(() => newEffect(0, DEFAULT_PRIOR.itemPrecision));
    this.exam = defaultExamination(world.slateSize);
    this.rng = new Rng(seed * 31 + 17);
    this.emEvery = Math.max(1000, Math.floor(stream.T / 20));
    this.groupCap = opts.groupCap;
  }
  private readonly groupCap?: number;
  private readonly explore: number;

  choose(t: number, c: number, cands: Int32Array): number[] {
    const n = this.world.items.length;
    const pctr = Array.from(cands, (i) => this.stream.pctr[c * n + i]);
    const b = new GaussianBeliefs(
      this.slope,
      this.groups,
      Int32Array.from(cands, (i) => this.world.group[i]),
      pctr,
      Array.from(cands, (i) => this.items[i]),
    );
    b.explore = this.explore;
    if (this.policy instanceof BayesUcbPolicy) this.policy.rounds = t;
    const opts = { size: this.world.slateSize, groupCap: this.groupCap };
    const choice = this.policy.choose(b, opts, this.rng, new ChoiceContext(b, opts));
    return choice.items.map((j) => cands[j]);
  }

  learn(t: number, c: number, _cands: Int32Array, slate: number[], clicks: boolean[]): void {
    const n = this.world.items.length;
    for (let s = 0; s < slate.length; s++) {
      const i = slate[s];
      const g = this.world.group[i];
      observeLogistic({ slope: this.slope, group: this.groups[g], item: this.items[i] }, { pctr: this.stream.pctr[c * n + i], clicked: clicks[s], examination: clicks[s] ? 1 : this.exam[s] });
      // EM rows per (item, slot); the ranker's logit bucket keeps the rows closer to one relevance each
      const key = (i * 16 + Math.max(0, Math.min(15, Math.floor(logit(this.stream.pctr[c * n + i]) + 10)))) * 32 + s;
      let row = this.counts.get(key);
      if (!row) this.counts.set(key, (row = { item: String(key >> 5), position: s, impressions: 0, clicks: 0 }));
      row.impressions++;
      if (clicks[s]) row.clicks++;
    }
    if ((t + 1) % this.emEvery === 0) this.exam = estimatePbm([...this.counts.values()], { positions: this.world.slateSize, iterations: 100 }).examination;
  }

  examination() {
    return this.exam;
  }
}
