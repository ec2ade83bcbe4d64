import type { Beliefs } from './beliefs';
import { ChoiceContext, InSlateThompsonPolicy, type SlateChoice, type SlateOptions, type SlatePolicy } from './policies';
import { deriveSeed, Rng } from './rng';

export interface PropensityOptions {
  /** Monte Carlo replicates (default 200) */
  draws?: number;
  /** seed of the replicates' stream (the shown slate uses its own) */
  seed: number;
  /** smallest propensity reported (default 1 / (2 draws)): the shown item had a positive probability */
  floor?: number;
  /** use the policy's closed form where it has one (default true) */
  exact?: boolean;
  /**
   * In-slate TS: posterior draws shared by the replicates (default = draws; each replicate uses
   * K = slate size of them). draws x K gives fully independent replicates.
   */
  pool?: number;
}

export interface SlatePropensities {
  /** per slot: P(that item at that slot) under the policy */
  slot: number[];
  /** per slot: P(that item anywhere in the slate) */
  inclusion: number[];
  method: 'exact' | 'monte-carlo';
  draws: number;
}

/**
 * Propensities of a shown slate under the policy that chose it: exact where the policy has a
 * closed form (greedy, epsilon-greedy without cap, Bayes-UCB), otherwise the frequencies over
 * `draws` reruns of the policy on an independent seeded stream, floored. Deterministic under the
 * seed. These are what slate off-policy estimators (IIPS, RIPS) need.
 */
export function slatePropensities(
  policy: SlatePolicy,
  beliefs: Beliefs,
  opts: SlateOptions,
  shown: SlateChoice,
  p: PropensityOptions,
  ctx: ChoiceContext = new ChoiceContext(beliefs, opts),
): SlatePropensities {
  const draws = p.draws ?? 200;
  const floor = p.floor ?? 1 / (2 * draws);
  if (p.exact !== false) {
    const cf = policy.closedForm?.(beliefs, opts, shown, ctx);
    if (cf) return { slot: cf.slot, inclusion: cf.inclusion, method: 'exact', draws: 0 };
  }
  const slotOf = new Int32Array(beliefs.n).fill(-1);
  shown.items.forEach((i, s) => (slotOf[i] = s));
  const atSlot = new Float64Array(shown.items.length);
  const inSlate = new Float64Array(shown.items.length);
  const rng = new Rng(deriveSeed(p.seed, 0x5eed));
  const count = (items: number[]) => {
    for (let s = 0; s < items.length; s++) {
      const t = slotOf[items[s]];
      if (t < 0) continue;
      inSlate[t]++;
      if (t === s) atSlot[t]++;
    }
  };
  const pooled = policy instanceof InSlateThompsonPolicy && policy.replicate(beliefs, opts, rng, ctx, draws, p.pool ?? draws, count);
  if (!pooled) for (let r = 0; r < draws; r++) count(policy.choose(beliefs, opts, rng, ctx).items);
  return {
    slot: Array.from(atSlot, (x) => Math.max(floor, x / draws)),
    inclusion: Array.from(inSlate, (x) => Math.max(floor, x / draws)),
    method: 'monte-carlo',
    draws,
  };
}

/** Chooses a slate and its propensities in one go (the shown slate from `seed`, the replicates from a derived stream). */
export function chooseSlate(policy: SlatePolicy, beliefs: Beliefs, opts: SlateOptions, p: PropensityOptions): { choice: SlateChoice; propensities: SlatePropensities } {
  const ctx = new ChoiceContext(beliefs, opts);
  const choice = policy.choose(beliefs, opts, new Rng(p.seed), ctx);
  // Copy: policies may reuse buffers between calls.
  const shown = { items: [...choice.items], scores: [...choice.scores] };
  return { choice: shown, propensities: slatePropensities(policy, beliefs, opts, shown, p, ctx) };
}
