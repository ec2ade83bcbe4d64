// The learning step's safe-improvement rule on synthetic logs with a known truth: a policy that
// raises revenue but breaks satisfaction is never staged, and with a revenue weight that makes a
// moderate ad-load better than the live one, the learned policy is staged and is truly better.
import { NumpyRandomState } from '@recsys/ope';
import { learn, type LoggedRound } from './learner';
import { actionProbabilities, uniformParams, type PolicyParams } from './policy';

const A = 4; // 0..3 ads per page
const KEYS = ['casual|tolLow|f0|morning', 'heavy|tolHigh|f1-2|evening'];
/** True expected satisfaction and revenue per (context, ads). */
const sat = (k: number, a: number) => (k === 0 ? 0.9 - 0.2 * a : 0.85 - 0.04 * a);
const rev = (_k: number, a: number) => 0.05 * a;

function logs(seed: number, n: number): LoggedRound[] {
  const rs = new NumpyRandomState(seed);
  const out: LoggedRound[] = [];
  for (let i = 0; i < n; i++) {
    const k = rs.randint(KEYS.length);
    const a = rs.randint(A);
    out.push({ contextKey: KEYS[k], action: a, propensity: 1 / A, satisfaction: rs.random() < sat(k, a) ? 1 : 0, revenue: rs.random() < 0.5 ? 2 * rev(k, a) : 0 });
  }
  return out;
}

function truth(p: PolicyParams, f: (k: number, a: number) => number) {
  let v = 0;
  KEYS.forEach((key, k) => {
    const pr = actionProbabilities(p, key, A);
    for (let a = 0; a < A; a++) v += (pr[a] * f(k, a)) / KEYS.length;
  });
  return v;
}

/** Live: mostly no ads (a cautious policy). */
const live: PolicyParams = { temperature: 0, epsilon: 0.2, values: {}, defaults: [1, 0, 0, 0] };

describe('adload learner: lower bound + satisfaction guardrail', () => {
  it('with a large revenue weight, no staged policy loses satisfaction beyond the tolerance (over 6 seeds)', () => {
    let staged = 0;
    for (let s = 1; s <= 6; s++) {
      const r = learn(logs(s, 4000), live, { nActions: A, lambda: 20, epsilon: 0.2, temperature: 0.05, tolerance: 0.01, bootstrapResamples: 0 });
      // The unconstrained objective favours the most ads: the greedy learned candidate must be blocked.
      const greedy = r.candidates.find((c) => c.name === 'learned-greedy')!;
      expect(truth(greedy.params, rev)).toBeGreaterThan(truth(live, rev));
      expect(greedy.guardrailOk).toBe(false);
      if (r.winner) {
        staged++;
        expect(r.winner.guardrailOk).toBe(true);
        expect(truth(r.winner.params, sat)).toBeGreaterThanOrEqual(truth(live, sat) - 0.01 - 0.02);
      }
    }
    expect(staged).toBeLessThanOrEqual(6);
  });

  it('stages a learned policy that is truly better on the objective when satisfaction allows (moderate lambda, tolerant guardrail)', () => {
    const r = learn(logs(99, 8000), uniformParams(A, 0.2, 1), { nActions: A, lambda: 3, epsilon: 0.2, temperature: 0.02, tolerance: 0.05, bootstrapResamples: 50 });
    expect(r.winner).toBeDefined();
    const obj = (k: number, a: number) => sat(k, a) + 3 * rev(k, a);
    expect(truth(r.winner!.params, obj)).toBeGreaterThan(truth(uniformParams(A, 0.2, 1), obj));
    expect(r.winner!.decision.objective.lower).toBeGreaterThan(r.live.decision.objective.lower);
    // Every estimator is reported for the live policy and each candidate.
    expect(Object.keys(r.live.estimators).sort()).toEqual(['clipped_ips', 'dm', 'dr', 'dros', 'ips', 'sndr', 'snips', 'switch_dr']);
  });

  it('stages nothing when every candidate breaks the guardrail (a zero-tolerance guardrail against a no-ads live policy)', () => {
    const noAds: PolicyParams = { temperature: 0, epsilon: 0.0001, values: {}, defaults: [1, 0, 0, 0] };
    const r = learn(logs(5, 3000), noAds, { nActions: A, lambda: 50, epsilon: 0.2, temperature: 0.05, tolerance: 0, bootstrapResamples: 0 });
    const blocked = r.candidates.filter((c) => !c.guardrailOk).map((c) => c.name);
    expect(blocked).toEqual(expect.arrayContaining(['learned-greedy', 'fixed-3']));
    if (r.winner) expect(r.winner.guardrailOk).toBe(true);
  });
});
