import { betaParams, BetaBeliefs, batchFit, DEFAULT_PRIOR, estimatePbm, newEffect, observeLogistic, Rng, sigmoid, logit, cascadeExamination, type ItemPosterior } from '@recsys/bandits';

describe('diagonal Laplace posterior', () => {
  it('matches a batch logistic regression (MAP, same prior) on the same data', () => {
    // Tolerance: slope within 0.1, item logit within 0.15, predicted P(click) within 0.02 on a pCTR grid (sequential vs joint mode).
    for (const seed of [1, 2, 3]) {
      const r = new Rng(seed);
      const trueA = 0.8 + 0.4 * r.nextDouble();
      const trueB = -0.8 + 1.6 * r.nextDouble();
      const post: ItemPosterior = {
        slope: newEffect(DEFAULT_PRIOR.aMean, DEFAULT_PRIOR.aPrecision),
        group: newEffect(0, DEFAULT_PRIOR.groupPrecision),
        item: newEffect(0, DEFAULT_PRIOR.itemPrecision),
      };
      const prior = { a: { ...post.slope }, group: { ...post.group }, item: { ...post.item } };
      const data: { pctr: number; clicked: boolean; weight: number }[] = [];
      for (let t = 0; t < 4000; t++) {
        const pctr = 0.02 + 0.5 * r.nextDouble();
        const clicked = r.nextDouble() < sigmoid(trueA * logit(pctr) + trueB);
        data.push({ pctr, clicked, weight: 1 });
        observeLogistic(post, { pctr, clicked, examination: 1 });
      }
      const fit = batchFit(prior, data);
      expect(Math.abs(post.slope.m - fit.a)).toBeLessThan(0.1);
      expect(Math.abs(post.group.m + post.item.m - (fit.group + fit.item))).toBeLessThan(0.15);
      for (const p of [0.03, 0.1, 0.3, 0.5]) {
        const online = sigmoid(post.slope.m * logit(p) + post.group.m + post.item.m);
        const batch = sigmoid(fit.a * logit(p) + fit.group + fit.item);
        expect(Math.abs(online - batch)).toBeLessThan(0.02);
      }
      // and both are near the truth
      expect(Math.abs(fit.a - trueA)).toBeLessThan(0.25);
    }
  });

  it('a cold item starts from its group: the group learns from its items, a new item inherits it', () => {
    const slope = newEffect(1, 1e9);
    const group = newEffect(0, 1);
    const a = newEffect(0, 4);
    for (let t = 0; t < 300; t++) observeLogistic({ slope, group, item: a }, { pctr: 0.1, clicked: t % 3 === 0, examination: 1 });
    // clicks at 1/3 vs pCTR 0.1: the group effect rises, and a new item of the group starts there
    expect(group.m).toBeGreaterThan(0.5);
    const cold = newEffect(0, 4);
    const predicted = sigmoid(logit(0.1) + group.m + cold.m);
    expect(predicted).toBeGreaterThan(0.2);
  });

  it('a skip at a rarely examined position moves the posterior less than one at the top', () => {
    const mk = (): ItemPosterior => ({ slope: newEffect(1, 4), group: newEffect(0, 1), item: newEffect(0, 4) });
    const top = mk();
    const low = mk();
    observeLogistic(top, { pctr: 0.3, clicked: false, examination: 1 });
    observeLogistic(low, { pctr: 0.3, clicked: false, examination: 0.2 });
    expect(top.item.m).toBeLessThan(low.item.m);
    expect(low.item.m).toBeLessThan(0);
    const none = mk();
    expect(observeLogistic(none, { pctr: 0.3, clicked: false, examination: 0 })).toBe(0);
    expect(none.item.m).toBe(0);
  });
});

describe('Beta-Bernoulli option', () => {
  it('a cold item starts at its group mean with capped pseudo-counts; its own counts then dominate', () => {
    const group = { ...newEffect(0, 1), clicks: 30, exposures: 100 };
    const cold = newEffect(0, 4);
    const p = betaParams(group, cold, 20);
    expect(p.alpha / (p.alpha + p.beta)).toBeCloseTo(31 / 102, 6);
    expect(p.alpha + p.beta).toBeCloseTo(20, 6);
    const hot = { ...newEffect(0, 4), clicks: 900, exposures: 1000 };
    const q = betaParams(group, hot, 20);
    expect(q.alpha / (q.alpha + q.beta)).toBeGreaterThan(0.88);
    const b = new BetaBeliefs([group], new Int32Array([0, 0]), [cold, hot]);
    const means = new Float64Array(2);
    b.mean(means);
    expect(means[1]).toBeGreaterThan(means[0]);
    const ucb = new Float64Array(2);
    b.quantile(0.95, ucb);
    expect(ucb[0]).toBeGreaterThan(means[0]);
  });
});

describe('examination estimator (PBM by EM)', () => {
  it('recovers known position examination probabilities', () => {
    const r = new Rng(42);
    const trueE = [1, 0.7, 0.5, 0.35, 0.25, 0.18];
    const items = Array.from({ length: 40 }, (_, i) => ({ id: `i${i}`, attr: 0.05 + 0.5 * r.nextDouble() }));
    const counts = new Map<string, { item: string; position: number; impressions: number; clicks: number }>();
    for (let t = 0; t < 200_000; t++) {
      const it = items[r.nextInt(items.length)];
      const k = r.nextInt(trueE.length);
      const key = `${it.id}|${k}`;
      const row = counts.get(key) ?? { item: it.id, position: k, impressions: 0, clicks: 0 };
      row.impressions++;
      if (r.nextDouble() < trueE[k] * it.attr) row.clicks++;
      counts.set(key, row);
    }
    const est = estimatePbm([...counts.values()]);
    est.examination.forEach((e, k) => expect(Math.abs(e - trueE[k])).toBeLessThan(0.04));
    const a0 = est.attractiveness.get('i0')!;
    expect(Math.abs(a0 - items[0].attr)).toBeLessThan(0.05);
  });

  it('cascade: examined down to the last click, nothing below', () => {
    expect(cascadeExamination(5, [1, 3])).toEqual([1, 1, 1, 1, 0]);
    expect(cascadeExamination(3, [])).toEqual([1, 1, 1]);
  });
});

describe('rng', () => {
  it('normal and beta variates have the right moments', () => {
    const r = new Rng(1);
    let s = 0;
    let s2 = 0;
    let b = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
      b += r.beta(2, 6);
    }
    expect(Math.abs(s / N)).toBeLessThan(0.02);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.02);
    expect(Math.abs(b / N - 0.25)).toBeLessThan(0.005);
  });

  it('ziggurat normals have the normal quantiles (body and tails), like the polar method', () => {
    const r = new Rng(2);
    const N = 400_000;
    const xs = Float64Array.from({ length: N }, () => r.normal()).sort();
    const ys = Float64Array.from({ length: N }, () => r.normalPolar()).sort();
    for (const [p, z] of [
      [0.001, -3.0902],
      [0.0228, -2.0],
      [0.1587, -1.0],
      [0.5, 0],
      [0.8413, 1.0],
      [0.9772, 2.0],
      [0.999, 3.0902],
    ] as const) {
      expect(Math.abs(xs[Math.floor(p * N)] - z)).toBeLessThan(0.03 + 0.05 * Math.abs(z) ** 2 * (p < 0.01 || p > 0.99 ? 1 : 0));
      expect(Math.abs(xs[Math.floor(p * N)] - ys[Math.floor(p * N)])).toBeLessThan(0.08);
    }
    // tail beyond r = 3.44 (the ziggurat's base strip): P(|x| > 3.5) = 4.65e-4
    const tail = xs.filter((x) => Math.abs(x) > 3.5).length / N;
    expect(Math.abs(tail - 4.65e-4)).toBeLessThan(1.5e-4);
  });
});
