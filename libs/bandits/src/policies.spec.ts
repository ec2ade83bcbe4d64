import { chooseSlate, ChoiceContext, createPolicy, EpsilonGreedyPolicy, GaussianBeliefs, GreedyPolicy, InSlateThompsonPolicy, Rng, slatePropensities, SlateThompsonPolicy } from '@recsys/bandits';

function beliefs(n: number, seed: number, sd: number) {
  const r = new Rng(seed);
  const mean = Array.from({ length: n }, () => r.normal());
  return GaussianBeliefs.independent(mean, new Array(n).fill(sd));
}

describe('slate policies', () => {
  it('in-slate TS with point-mass posteriors equals greedy', () => {
    for (const seed of [1, 2, 3]) {
      const b = beliefs(50, seed, 0);
      const opts = { size: 8 };
      const greedy = new GreedyPolicy().choose(b, opts, new Rng(0), new ChoiceContext(b, opts));
      const ts = new InSlateThompsonPolicy().choose(b, opts, new Rng(seed), new ChoiceContext(b, opts));
      expect(ts.items).toEqual(greedy.items);
      const means = new Float64Array(50);
      b.mean(means);
      const sorted = Array.from(means.keys()).sort((x, y) => means[y] - means[x]);
      expect(greedy.items).toEqual(sorted.slice(0, 8));
    }
  });

  it('with equal flat posteriors every item is at slot 1 with probability tending to 1/n', () => {
    const n = 10;
    const b = GaussianBeliefs.independent(new Array(n).fill(0), new Array(n).fill(1));
    const opts = { size: 3 };
    const ctx = new ChoiceContext(b, opts);
    const policy = new InSlateThompsonPolicy();
    const rng = new Rng(7);
    const draws = 20_000;
    const first = new Array(n).fill(0);
    for (let t = 0; t < draws; t++) first[policy.choose(b, opts, rng, ctx).items[0]]++;
    // binomial sd at p = 0.1: sqrt(0.09 / 20000) = 0.0021; allow ~4 sd
    for (const c of first) expect(Math.abs(c / draws - 1 / n)).toBeLessThan(0.008);
  });

  it('slates hold distinct items, respect the group cap, and are deterministic under a seed', () => {
    const n = 60;
    const r = new Rng(3);
    const groups = Int32Array.from({ length: n }, (_, i) => i % 4);
    // group 0 has all the best items
    const mean = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 3 : 0) + 0.1 * r.normal());
    const b = GaussianBeliefs.independent(mean, new Array(n).fill(0.3), groups);
    for (const id of ['greedy', 'epsilon-greedy', 'bayes-ucb', 'slate-ts', 'in-slate-ts'] as const) {
      const opts = { size: 10, groupCap: 3 };
      const a = chooseSlate(createPolicy(id, { epsilon: 0.5 }), b, opts, { seed: 11, draws: 50 });
      const again = chooseSlate(createPolicy(id, { epsilon: 0.5 }), b, opts, { seed: 11, draws: 50 });
      expect(a).toEqual(again);
      expect(new Set(a.choice.items).size).toBe(10);
      const perGroup = [0, 0, 0, 0];
      for (const i of a.choice.items) perGroup[groups[i]]++;
      expect(Math.max(...perGroup)).toBeLessThanOrEqual(3);
    }
  });

  it('pruning by bounds does not change the slates (same draws with and without)', () => {
    const n = 500;
    const r = new Rng(5);
    const mean = Array.from({ length: n }, () => 2 * r.normal());
    const sd = Array.from({ length: n }, () => 0.2 + 0.3 * r.nextDouble());
    const b = GaussianBeliefs.independent(mean, sd);
    const opts = { size: 10 };
    const pruned = new ChoiceContext(b, opts, 5);
    const full = new ChoiceContext(b, opts, 0);
    expect(pruned.active.length).toBeLessThan(n / 2);
    const p = new InSlateThompsonPolicy();
    const r1 = new Rng(9);
    const r2 = new Rng(9);
    // the draws consume the stream per active candidate, so compare distributions, not streams:
    const count = (ctx: ChoiceContext, rng: Rng) => {
      const m = new Map<number, number>();
      for (let t = 0; t < 800; t++) for (const i of p.choose(b, opts, rng, ctx).items) m.set(i, (m.get(i) ?? 0) + 1);
      return m;
    };
    const a = count(pruned, r1);
    const c = count(full, r2);
    for (const [i, k] of c) expect(Math.abs((a.get(i) ?? 0) - k) / 800).toBeLessThan(0.08);
    for (const i of a.keys()) expect(pruned.active.includes(i)).toBe(true);
  });
});

describe('propensities', () => {
  it('Monte Carlo matches the epsilon-greedy closed form', () => {
    const b = beliefs(12, 4, 0.5);
    const opts = { size: 4 };
    const policy = new EpsilonGreedyPolicy(0.3);
    // a random slate, so some shown items are off the greedy slots
    const ctx = new ChoiceContext(b, opts);
    const rng = new Rng(1);
    let shown = policy.choose(b, opts, rng, ctx);
    while (shown.items.join() === ctx.greedy().items.join()) shown = policy.choose(b, opts, rng, ctx);
    shown = { items: [...shown.items], scores: [...shown.scores] };
    const exact = slatePropensities(policy, b, opts, shown, { seed: 5 }, ctx);
    const mc = slatePropensities(policy, b, opts, shown, { seed: 5, draws: 20_000, exact: false, floor: 0 }, ctx);
    expect(exact.method).toBe('exact');
    expect(mc.method).toBe('monte-carlo');
    for (let s = 0; s < 4; s++) {
      expect(Math.abs(mc.slot[s] - exact.slot[s])).toBeLessThan(0.015);
      expect(Math.abs(mc.inclusion[s] - exact.inclusion[s])).toBeLessThan(0.015);
    }
  });

  it('in-slate TS: propensities from a shared pool of draws agree with fully independent replicates', () => {
    const r = new Rng(12);
    const n = 60;
    const b = GaussianBeliefs.independent(
      Array.from({ length: n }, () => 0.5 * r.normal()),
      Array.from({ length: n }, () => 0.3 + 0.3 * r.nextDouble()),
    );
    const opts = { size: 5 };
    const policy = new InSlateThompsonPolicy();
    const shown = chooseSlate(policy, b, opts, { seed: 1, draws: 10 }).choice;
    const pooled = slatePropensities(policy, b, opts, shown, { seed: 2, draws: 6000, pool: 6000 });
    const independent = slatePropensities(policy, b, opts, shown, { seed: 3, draws: 6000, pool: 6000 * 5 });
    for (let s = 0; s < 5; s++) {
      expect(Math.abs(pooled.slot[s] - independent.slot[s])).toBeLessThan(0.03);
      expect(Math.abs(pooled.inclusion[s] - independent.inclusion[s])).toBeLessThan(0.03);
    }
    expect(Math.max(...independent.inclusion)).toBeGreaterThan(0.2);
  });

  it('Monte Carlo of a deterministic policy gives 1; TS propensities are floored, sum to <= 1 per slot, and seed-deterministic', () => {
    const b = beliefs(30, 8, 0.6);
    const opts = { size: 5 };
    const g = chooseSlate(new GreedyPolicy(), b, opts, { seed: 1, exact: false, draws: 20 });
    expect(g.propensities.slot).toEqual([1, 1, 1, 1, 1]);
    const t1 = chooseSlate(new SlateThompsonPolicy(), b, opts, { seed: 3, draws: 200 });
    const t2 = chooseSlate(new SlateThompsonPolicy(), b, opts, { seed: 3, draws: 200 });
    expect(t1).toEqual(t2);
    for (let s = 0; s < 5; s++) {
      expect(t1.propensities.slot[s]).toBeGreaterThanOrEqual(1 / 400);
      expect(t1.propensities.inclusion[s]).toBeGreaterThanOrEqual(t1.propensities.slot[s]);
      expect(t1.propensities.inclusion[s]).toBeLessThanOrEqual(1);
    }
    const t3 = chooseSlate(new SlateThompsonPolicy(), b, opts, { seed: 4, draws: 200 });
    expect(t3.propensities).not.toEqual(t1.propensities);
  });
});

describe('exploration scale (GaussianBeliefs.explore)', () => {
  const hierarchical = (seed: number) => {
    const r = new Rng(seed);
    const n = 80;
    const groups = Int32Array.from({ length: n }, (_, i) => i % 4);
    const items = Array.from({ length: n }, () => ({ m: 0.5 * r.normal(), q: 4 + 40 * r.nextDouble() }));
    const pctr = Array.from({ length: n }, () => 0.02 + 0.2 * r.nextDouble());
    return new GaussianBeliefs(
      { m: 1.1, q: 100 },
      Array.from({ length: 4 }, () => ({ m: 0.2 * r.normal(), q: 30 })),
      groups,
      pctr,
      items,
    );
  };

  it('explore = 0 turns slate TS and in-slate TS into greedy on the hierarchical posterior', () => {
    for (const seed of [1, 2]) {
      const b = hierarchical(seed);
      b.explore = 0;
      const opts = { size: 6 };
      const greedy = new GreedyPolicy().choose(b, opts, new Rng(0), new ChoiceContext(b, opts)).items;
      expect(new InSlateThompsonPolicy().choose(b, opts, new Rng(seed), new ChoiceContext(b, opts)).items).toEqual(greedy);
      expect(new SlateThompsonPolicy().choose(b, opts, new Rng(seed), new ChoiceContext(b, opts)).items).toEqual(greedy);
    }
  });

  it('a draw is mean + explore x sd: the spread of the draws scales with explore', () => {
    const b = hierarchical(3);
    const all = Int32Array.from({ length: b.n }, (_, i) => i);
    const means = new Float64Array(b.n);
    b.mean(means);
    const spread = (x: number) => {
      b.explore = x;
      const rng = new Rng(11);
      const out = new Float64Array(b.n);
      let ss = 0;
      const draws = 4000;
      for (let t = 0; t < draws; t++) {
        b.sample(rng, all, out);
        ss += (out[5] - means[5]) ** 2;
      }
      return Math.sqrt(ss / draws);
    };
    const one = spread(1);
    const quarter = spread(0.25);
    // same random stream: the deviations scale exactly (up to rounding)
    expect(quarter / one).toBeCloseTo(0.25, 6);
    // and the spread at explore = 1 is the posterior sd: sqrt(l^2/q_a + 1/q_g + 1/q_i) within 5%
    const q = new Float64Array(b.n);
    b.quantile(0.8413447460685429, q);
    expect(one / (q[5] - means[5])).toBeGreaterThan(0.95);
    expect(one / (q[5] - means[5])).toBeLessThan(1.05);
  });

  it('Monte Carlo propensities follow the scaled policy (explore -> 0: the greedy slate has propensity 1)', () => {
    const b = hierarchical(4);
    b.explore = 1e-9;
    const opts = { size: 5 };
    const { choice, propensities } = chooseSlate(new InSlateThompsonPolicy(), b, opts, { seed: 3, draws: 200 });
    const greedy = new GreedyPolicy().choose(b, opts, new Rng(0), new ChoiceContext(b, opts)).items;
    expect(choice.items).toEqual(greedy);
    expect(propensities.slot).toEqual(new Array(5).fill(1));
  });
});
