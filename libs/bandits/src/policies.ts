import type { Beliefs } from './beliefs';
import type { Rng } from './rng';

/**
 * Slate policies behind one interface (issue 12). Each picks `size` distinct candidates, at most
 * `groupCap` per group when set. A policy's choice is a function of the beliefs and the random
 * stream only, so the propensity estimator can rerun it (propensity.ts).
 */
export interface SlateOptions {
  size: number;
  /** most items of one group in a slate (unset = no cap) */
  groupCap?: number;
}

export interface SlateChoice {
  /** candidate index per slot */
  items: number[];
  /** the score each was placed with (sampled for Thompson policies, mean or quantile otherwise), on the beliefs' scale */
  scores: number[];
}

export interface SlatePolicy {
  readonly id: string;
  /** false: the slate is a deterministic function of the beliefs */
  readonly stochastic: boolean;
  choose(b: Beliefs, opts: SlateOptions, rng: Rng, ctx: ChoiceContext): SlateChoice;
  /**
   * Exact propensities of the shown slate where a closed form exists: per slot, P(item at that
   * slot) and P(item anywhere in the slate); null when there is none (then Monte Carlo).
   */
  closedForm?(b: Beliefs, opts: SlateOptions, shown: SlateChoice, ctx: ChoiceContext): { slot: number[]; inclusion: number[] } | null;
}

/**
 * Per-request work shared by the policy's runs (the shown slate and every Monte Carlo replicate):
 * the candidates that can reach the slate, scratch buffers, and the greedy order.
 */
export class ChoiceContext {
  /** candidates that can enter the slate (all, or those surviving the bound pruning) */
  readonly active: Int32Array;
  readonly scratch: Float64Array;
  private meanScores?: Float64Array;
  private greedyCache?: SlateChoice;
  private readonly groupCount: Int32Array;

  constructor(
    readonly beliefs: Beliefs,
    readonly opts: SlateOptions,
    /** Prune candidates whose upper bound (mean + c sd) is below the slate's c-lower bound; 0 = no pruning. */
    pruneSigmas = 5,
  ) {
    this.scratch = new Float64Array(beliefs.n);
    this.groupCount = new Int32Array(Math.max(1, beliefs.groupCount));
    this.active = pruneSigmas > 0 ? this.prune(pruneSigmas) : Int32Array.from({ length: beliefs.n }, (_, i) => i);
    if (pruneSigmas > 0 && beliefs.sampleTop && opts.groupCap === undefined) {
      const b = this.bounds ?? beliefs.bounds(pruneSigmas);
      if (b) {
        this.upper = b.upper;
        this.byUpper = Int32Array.from(this.active).sort((x, y) => b.upper[y] - b.upper[x]);
      }
    }
    this.topBuf = new Int32Array(Math.max(1, opts.size));
  }
  /** active candidates by upper bound, descending (set when the beliefs have the sampleTop fast path and there is no group cap) */
  byUpper?: Int32Array;
  upper?: Float64Array;
  private bounds?: { lower: Float64Array; upper: Float64Array } | null;
  private readonly topBuf: Int32Array;

  /**
   * One posterior draw's best `m` candidates (m <= size), best first, with their sampled scores in
   * `scores`: the bounded lazy walk when available, else a full draw over the active candidates.
   */
  drawTop(rng: Rng, scores: Float64Array, m: number): Int32Array {
    if (this.byUpper && this.beliefs.sampleTop) {
      const len = this.beliefs.sampleTop(rng, this.byUpper, this.upper!, m, scores, this.topBuf);
      return this.topBuf.slice(0, len);
    }
    this.beliefs.sample(rng, this.active, scores);
    return topOrder(scores, this.active, m);
  }

  /**
   * A candidate whose upper bound is below L can never be placed (up to the bounds' tail
   * probability): L is the lower bound of the k-th candidate taken greedily by lower bound with the
   * group cap, so at least k placeable candidates sit above it in every draw, and every slate
   * built by walking draws in order (greedy, TS, interleaved TS) fills before reaching it.
   */
  private prune(c: number): Int32Array {
    const b = (this.bounds = this.beliefs.bounds(c));
    const n = this.beliefs.n;
    const all = Int32Array.from({ length: n }, (_, i) => i);
    if (!b || n <= this.opts.size) return all;
    if (this.opts.groupCap === undefined) {
      // no cap: the threshold is the k-th largest lower bound (partial selection, no sort)
      const top = topOrder(b.lower, all, this.opts.size);
      const threshold = b.lower[top[top.length - 1]];
      let m = 0;
      for (let i = 0; i < n; i++) if (b.upper[i] >= threshold) all[m++] = i;
      return all.slice(0, m);
    }
    const order = Array.from(all).sort((x, y) => b.lower[y] - b.lower[x]);
    const cap = this.opts.groupCap;
    const counts = this.groupCount.fill(0);
    let taken = 0;
    let threshold = -Infinity;
    for (const i of order) {
      const g = this.beliefs.groups[i];
      if (counts[g] >= cap) continue;
      counts[g]++;
      if (++taken === this.opts.size) {
        threshold = b.lower[i];
        break;
      }
    }
    if (taken < this.opts.size) return all;
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (b.upper[i] >= threshold) keep.push(i);
    return Int32Array.from(keep);
  }

  means(): Float64Array {
    if (!this.meanScores) {
      this.meanScores = new Float64Array(this.beliefs.n);
      this.beliefs.mean(this.meanScores);
    }
    return this.meanScores;
  }

  greedy(): SlateChoice {
    if (!this.greedyCache) this.greedyCache = this.fillByScore(this.means(), this.active);
    return this.greedyCache;
  }

  /** Best-first fill of the slate from `scores` over `candidates`, respecting the group cap. */
  fillByScore(scores: Float64Array, candidates: Int32Array): SlateChoice {
    const size = Math.min(this.opts.size, this.beliefs.n);
    const order = topOrder(scores, candidates, size);
    let out = this.fillFromOrder(order, scores, size);
    if (out.items.length < size && order.length < candidates.length) out = this.fillFromOrder(topOrder(scores, candidates, candidates.length), scores, size);
    return out;
  }

  private fillFromOrder(order: Int32Array, scores: Float64Array, size: number): SlateChoice {
    const cap = this.opts.groupCap ?? Infinity;
    const counts = this.groupCount.fill(0);
    const items: number[] = [];
    const sc: number[] = [];
    for (let k = 0; k < order.length && items.length < size; k++) {
      const i = order[k];
      const g = this.beliefs.groups[i];
      if (counts[g] >= cap) continue;
      counts[g]++;
      items.push(i);
      sc.push(scores[i]);
    }
    return { items, scores: sc };
  }

  resetGroups(): Int32Array {
    return this.groupCount.fill(0);
  }
}

/** Indices of the `m` largest scores among `candidates`, best first (insertion into a small buffer). */
export function topOrder(scores: Float64Array, candidates: Int32Array, m: number): Int32Array {
  const k = Math.min(m, candidates.length);
  const idx = new Int32Array(k);
  let len = 0;
  for (let c = 0; c < candidates.length; c++) {
    const i = candidates[c];
    const s = scores[i];
    if (len === k) {
      if (!(s > scores[idx[k - 1]])) continue;
      len--;
    }
    let j = len;
    while (j > 0 && scores[idx[j - 1]] < s) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
    len++;
  }
  return idx;
}

/** Greedy: the slate by posterior mean. */
export class GreedyPolicy implements SlatePolicy {
  readonly id = 'greedy';
  readonly stochastic = false;
  choose(_b: Beliefs, _o: SlateOptions, _r: Rng, ctx: ChoiceContext) {
    return ctx.greedy();
  }
  closedForm(_b: Beliefs, _o: SlateOptions, shown: SlateChoice) {
    return { slot: shown.items.map(() => 1), inclusion: shown.items.map(() => 1) };
  }
}

/**
 * Epsilon-greedy at the slate level: with probability 1 - epsilon the greedy slate, otherwise a
 * uniformly random one (slot by slot, uniform among the candidates the group cap still allows).
 * Closed form without a cap: P(i at s) = (1 - eps) [greedy_s = i] + eps / n and
 * P(i in slate) = (1 - eps) [i in greedy] + eps k / n.
 */
export class EpsilonGreedyPolicy implements SlatePolicy {
  readonly id: string;
  readonly stochastic = true;
  constructor(readonly epsilon = 0.1) {
    this.id = `epsilon-greedy(${epsilon})`;
  }
  choose(b: Beliefs, opts: SlateOptions, rng: Rng, ctx: ChoiceContext): SlateChoice {
    if (rng.nextDouble() >= this.epsilon) return ctx.greedy();
    const size = Math.min(opts.size, b.n);
    const cap = opts.groupCap ?? Infinity;
    const counts = ctx.resetGroups();
    const pool = Array.from({ length: b.n }, (_, i) => i);
    const means = ctx.means();
    const items: number[] = [];
    const scores: number[] = [];
    let live = pool.length;
    while (items.length < size && live > 0) {
      const j = rng.nextInt(live);
      const i = pool[j];
      pool[j] = pool[live - 1];
      live--;
      if (counts[b.groups[i]] >= cap) continue;
      counts[b.groups[i]]++;
      items.push(i);
      scores.push(means[i]);
    }
    return { items, scores };
  }
  closedForm(b: Beliefs, opts: SlateOptions, shown: SlateChoice, ctx: ChoiceContext) {
    if (opts.groupCap !== undefined) return null;
    const greedy = ctx.greedy().items;
    const n = b.n;
    const k = Math.min(opts.size, n);
    const e = this.epsilon;
    return {
      slot: shown.items.map((i, s) => (1 - e) * (greedy[s] === i ? 1 : 0) + e / n),
      inclusion: shown.items.map((i) => (1 - e) * (greedy.includes(i) ? 1 : 0) + (e * k) / n),
    };
  }
}

/**
 * Bayes-UCB (Kaufmann, Cappe & Garivier 2012): the slate by the posterior quantile of level
 * 1 - 1/(t+1) (t = rounds so far, i.e. observations learned), capped at `maxLevel`. Deterministic.
 */
export class BayesUcbPolicy implements SlatePolicy {
  readonly id = 'bayes-ucb';
  readonly stochastic = false;
  constructor(
    public rounds = 0,
    readonly maxLevel = 0.999,
    /** a fixed quantile level instead of the 1 - 1/(t+1) schedule */
    readonly fixedLevel?: number,
  ) {}
  level() {
    if (this.fixedLevel !== undefined) return this.fixedLevel;
    return Math.min(this.maxLevel, Math.max(0.5, 1 - 1 / (this.rounds + 1)));
  }
  choose(b: Beliefs, _o: SlateOptions, _r: Rng, ctx: ChoiceContext) {
    const q = new Float64Array(b.n);
    b.quantile(this.level(), q);
    return ctx.fillByScore(q, ctx.active);
  }
  closedForm(_b: Beliefs, _o: SlateOptions, shown: SlateChoice) {
    return { slot: shown.items.map(() => 1), inclusion: shown.items.map(() => 1) };
  }
}

/** Slate-level Thompson sampling: one posterior draw, the slate is its top k. */
export class SlateThompsonPolicy implements SlatePolicy {
  readonly id = 'slate-ts';
  readonly stochastic = true;
  choose(b: Beliefs, opts: SlateOptions, rng: Rng, ctx: ChoiceContext) {
    if (ctx.byUpper) {
      const size = Math.min(opts.size, b.n);
      const top = ctx.drawTop(rng, ctx.scratch, size);
      return { items: Array.from(top), scores: Array.from(top, (i) => ctx.scratch[i]) };
    }
    b.sample(rng, ctx.active, ctx.scratch);
    return ctx.fillByScore(ctx.scratch, ctx.active);
  }
}

/**
 * In-slate Thompson sampling (Eide et al., FINN.no): K = slate size independent posterior draws;
 * the slate interleaves them as their reference code does: every draw's best item in draw order,
 * then every draw's second best, ..., skipping items already placed (and items whose group is full).
 */
export class InSlateThompsonPolicy implements SlatePolicy {
  readonly id = 'in-slate-ts';
  readonly stochastic = true;
  private buf: Float64Array[] = [];

  choose(b: Beliefs, opts: SlateOptions, rng: Rng, ctx: ChoiceContext): SlateChoice {
    const size = Math.min(opts.size, b.n);
    const K = size;
    while (this.buf.length < K || (this.buf[0] && this.buf[0].length < b.n)) {
      if (this.buf[0] && this.buf[0].length < b.n) this.buf = [];
      this.buf.push(new Float64Array(b.n));
    }
    const orders: Int32Array[] = [];
    for (let d = 0; d < K; d++) orders.push(ctx.drawTop(rng, this.buf[d], size));
    let out = this.interleave(b, opts, orders, size, ctx);
    if (out.items.length < size && ctx.active.length > size) {
      for (let d = 0; d < K; d++) orders[d] = topOrder(this.buf[d], ctx.active, ctx.active.length);
      out = this.interleave(b, opts, orders, size, ctx);
    }
    return out;
  }

  /**
   * Monte Carlo replicates for the propensities from a shared pool of `pool` posterior draws: each
   * replicate interleaves K distinct draws picked at random from the pool (in random order). Every
   * replicate has exactly the policy's distribution (the pool's draws are iid), so the frequencies
   * stay unbiased; replicates sharing draws only add some variance. `pool` = replicates x K means
   * no sharing. Returns false (caller falls back to independent replicates) without the bounded
   * fast path (e.g. with a group cap).
   */
  replicate(b: Beliefs, opts: SlateOptions, rng: Rng, ctx: ChoiceContext, replicates: number, pool: number, visit: (items: number[]) => void): boolean {
    if (!ctx.byUpper) return false;
    const size = Math.min(opts.size, b.n);
    const K = size;
    const M = Math.max(K, Math.min(pool, replicates * K));
    const lists: Int32Array[] = [];
    for (let m = 0; m < M; m++) lists.push(ctx.drawTop(rng, ctx.scratch, size));
    const idx = Int32Array.from({ length: M }, (_, i) => i);
    const placed = new Uint8Array(b.n);
    const items: number[] = [];
    for (let r = 0; r < replicates; r++) {
      for (let d = 0; d < K; d++) {
        const j = d + rng.nextInt(M - d);
        const t = idx[d];
        idx[d] = idx[j];
        idx[j] = t;
      }
      items.length = 0;
      for (let round = 0; round < size && items.length < size; round++) {
        for (let d = 0; d < K && items.length < size; d++) {
          const list = lists[idx[d]];
          if (round >= list.length) continue;
          const i = list[round];
          if (placed[i]) continue;
          placed[i] = 1;
          items.push(i);
        }
      }
      for (const i of items) placed[i] = 0;
      visit(items);
    }
    return true;
  }

  private interleave(b: Beliefs, opts: SlateOptions, orders: Int32Array[], size: number, ctx: ChoiceContext): SlateChoice {
    const cap = opts.groupCap ?? Infinity;
    const counts = ctx.resetGroups();
    const placed = new Set<number>();
    const items: number[] = [];
    const scores: number[] = [];
    const depth = orders[0].length;
    for (let r = 0; r < depth && items.length < size; r++) {
      for (let d = 0; d < orders.length && items.length < size; d++) {
        const i = orders[d][r];
        if (placed.has(i) || counts[b.groups[i]] >= cap) continue;
        placed.add(i);
        counts[b.groups[i]]++;
        items.push(i);
        scores.push(this.buf[d][i]);
      }
    }
    return { items, scores };
  }
}

export const POLICY_IDS = ['greedy', 'epsilon-greedy', 'bayes-ucb', 'slate-ts', 'in-slate-ts'] as const;
export type PolicyId = (typeof POLICY_IDS)[number];

export function createPolicy(id: PolicyId, opts: { epsilon?: number; rounds?: number } = {}): SlatePolicy {
  switch (id) {
    case 'greedy':
      return new GreedyPolicy();
    case 'epsilon-greedy':
      return new EpsilonGreedyPolicy(opts.epsilon ?? 0.1);
    case 'bayes-ucb':
      return new BayesUcbPolicy(opts.rounds ?? 0);
    case 'slate-ts':
      return new SlateThompsonPolicy();
    case 'in-slate-ts':
      return new InSlateThompsonPolicy();
  }
}
