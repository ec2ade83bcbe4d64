import { randomInt, randomUUID } from 'node:crypto';
import { BayesUcbPolicy, BetaBeliefs, chooseSlate, createPolicy, GaussianBeliefs, sigmoid, type Beliefs } from '@recsys/bandits';
import { DomainError } from '@recsys/platform';
import type { SlateRequest } from '../api/dto';
import { NO_GROUP } from './keys';
import type { PosteriorStore } from './posterior-store';

/** POST /v1/slates: posteriors of the candidates (one batched read), the policy's slate, its propensities. */
export class SlateBuilder {
  constructor(
    private readonly posteriors: PosteriorStore,
    private readonly maxCandidates: number,
  ) {}

  async build(req: SlateRequest) {
    const cands = req.candidates;
    if (cands.length > this.maxCandidates) throw new DomainError('too_many_candidates', 422, `at most ${this.maxCandidates} candidates`, { max: this.maxCandidates });
    const seen = new Set<string>();
    for (const c of cands) {
      if (seen.has(c.itemId)) throw new DomainError('duplicate_candidates', 422, `candidate '${c.itemId}' appears twice`, { itemId: c.itemId });
      seen.add(c.itemId);
    }
    const groupNames = cands.map((c) => c.group ?? NO_GROUP);
    const snap = await this.posteriors.read(
      cands.map((c) => c.itemId),
      groupNames,
    );
    const gIndex = new Map<string, number>();
    const groupsOrdered = [...snap.groups.keys()];
    groupsOrdered.forEach((g, k) => gIndex.set(g, k));
    const groupIdx = Int32Array.from(groupNames, (g) => gIndex.get(g)!);
    const items = cands.map((c, k) => snap.items.get(c.itemId) ?? this.posteriors.newItem(groupNames[k]));
    const groupEffects = groupsOrdered.map((g) => snap.groups.get(g)!);
    let beliefs: Beliefs;
    let toProb: (x: number) => number;
    if (req.model === 'beta') {
      beliefs = new BetaBeliefs(groupEffects, groupIdx, items);
      toProb = (x) => x;
    } else {
      beliefs = new GaussianBeliefs(
        snap.slope,
        groupEffects,
        groupIdx,
        cands.map((c) => c.score),
        items,
      );
      toProb = sigmoid;
    }
    const policy = createPolicy(req.policy, { epsilon: req.epsilon });
    if (policy instanceof BayesUcbPolicy) policy.rounds = Math.round(snap.slope.exposures);
    const seed = req.seed ?? randomInt(0, 2 ** 48 - 1);
    const opts = { size: Math.min(req.size, cands.length), groupCap: req.groupCap };
    const { choice, propensities } = chooseSlate(policy, beliefs, opts, { seed, draws: req.draws });
    return {
      requestId: randomUUID(),
      policyId: `${policy.id}/${req.model}`,
      slate: choice.items.map((j, s) => ({
        itemId: cands[j].itemId,
        position: s,
        propensity: propensities.slot[s],
        inclusionPropensity: propensities.inclusion[s],
        sampledScore: toProb(choice.scores[s]),
      })),
      propensityMethod: propensities.method,
      draws: propensities.draws,
      seed,
    };
  }
}
