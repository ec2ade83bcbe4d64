import { actionProbabilities, adPositions, contextKey, drawAction, uniformParams, type PolicyParams } from './policy';
import { reward, satisfaction } from './reward';

describe('adload serving policy', () => {
  const params: PolicyParams = { temperature: 0.1, epsilon: 0.2, values: { 'heavy|tolHigh|f0|evening': [0, 1, 3, 0.5] }, defaults: [1, 0, 0, 0] };

  it('keeps every action at probability >= epsilon / |A| and sums to 1', () => {
    for (const key of ['heavy|tolHigh|f0|evening', 'unknown|tol?|f6+|night']) {
      const p = actionProbabilities(params, key, 4);
      expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
      for (const x of p) expect(x).toBeGreaterThanOrEqual(0.2 / 4 - 1e-15);
    }
    const greedy = actionProbabilities({ ...params, temperature: 0 }, 'heavy|tolHigh|f0|evening', 4);
    expect(Array.from(greedy)).toEqual([0.05, 0.05, 0.85, 0.05].map((x) => expect.closeTo(x, 12)));
  });

  it('prefers higher values (softmax) and falls back to the defaults for unseen contexts', () => {
    const p = actionProbabilities(params, 'heavy|tolHigh|f0|evening', 4);
    expect(p[2]).toBeGreaterThan(p[1]);
    expect(p[1]).toBeGreaterThan(p[3]);
    const d = actionProbabilities(params, 'casual|tolLow|f1-2|morning', 4);
    expect(d[0]).toBeGreaterThan(d[1]);
    expect(Array.from(actionProbabilities(uniformParams(3, 0.1, 1), 'x', 3))).toEqual([1 / 3, 1 / 3, 1 / 3].map((x) => expect.closeTo(x, 12)));
  });

  it('draws actions with the stated probabilities (inverse CDF)', () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10000; i++) counts[drawAction(p, (i + 0.5) / 10000)]++;
    expect(counts).toEqual([1000, 2000, 3000, 4000]);
  });

  it('spreads ad positions evenly over the page and keys contexts by segment, tolerance, fetch index and hour', () => {
    expect(adPositions(0, 10)).toEqual([]);
    expect(adPositions(2, 10)).toEqual([4, 8]);
    expect(new Set(adPositions(3, 10)).size).toBe(3);
    expect(contextKey({ surface: 'home', sessionFetchIndex: 4, segment: 'heavy', adTolerance: 0.7, hour: 20 })).toBe('heavy|tolHigh|f3-5|evening');
    expect(contextKey({ surface: 'home', sessionFetchIndex: 0, segment: 'new', hour: 3 })).toBe('new|tol?|f0|night');
  });

  it('reward = satisfaction + lambda x revenue from the stored components', () => {
    const o = { clicks: 2, hides: 1, dwellMs: 45_000, adClicks: 1, revenueMicros: 30_000, continued: true };
    expect(satisfaction(o)).toBeCloseTo(1 + 0.4 - 0.5 + 0.3, 12);
    expect(reward(o, 10)).toBeCloseTo(1.2 + 0.3, 12);
  });
});
