import { randomInt, randomUUID } from 'node:crypto';
import { BayesUcbPolicy, BetaBeliefs, chooseSlate, createPolicy, DEFAULT_EXPLORE, GaussianBeliefs, sigmoid, type Beliefs } from '@recsys/bandits';
import { DomainError } from '@recsys/platform';
import type { SlateRequest } from '../api/dto';
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
    const n = cands.length;
    const ids = new Array<string>(n);
    const groupsIn = new Array<string | undefined>(n);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = cands[i];
      ids[i] = c.itemId;
      groupsIn[i] = c.group;
      scores[i] = c.score;
    }
    const snap = await this.posteriors.readForSlate(ids, groupsIn);
    let beliefs: Beliefs;
    let toProb: (x: number) => number;
    if (req.model === 'beta') {
      const eff = (m: Float64Array, q: Float64Array, c: Float64Array, x: Float64Array, k: number) => ({ m: m[k], q: q[k], clicks: c[k], exposures: x[k] });
      const groupEffects = snap.groupNames.map((_, k) => eff(snap.groupM, snap.groupQ, snap.groupClicks, snap.groupExposures, k));
      const items = ids.map((_, i) => eff(snap.itemM, snap.itemQ, snap.itemClicks, snap.itemExposures, i));
      beliefs = new BetaBeliefs(groupEffects, snap.groupOf, items);
      toProb = (x) => x;
    } else {
      const g = new GaussianBeliefs(snap.slope, { m: snap.groupM, q: snap.groupQ }, snap.groupOf, scores, { m: snap.itemM, q: snap.itemQ });
      g.explore = req.explore ?? DEFAULT_EXPLORE;
      beliefs = g;
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
