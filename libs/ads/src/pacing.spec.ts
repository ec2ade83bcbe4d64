import assert from 'node:assert/strict';
import { PacingController, ProbabilisticThrottle } from './pacing';
import { diurnalShares, poisson, seededRandom } from './simulation';
import { cumulative, hourlyTargets, spendError, zonedTime } from './spend-curve';
import { TrafficProfile } from './traffic-profile';

/**
 * One campaign over one day of diurnal traffic, controlled every `stepMin` minutes: each minute
 * brings Poisson(opportunities) auctions it would win at full participation, each costing `cost`.
 * Spend is capped at the budget (the ledger would refuse the rest). Returns hourly spend.
 */
function simulateDay(opts: {
  demand: number;
  budget: number;
  profileShares: number[];
  trueShares: number[];
  seed: number;
  stepMin?: number;
  controller?: 'pid' | 'throttle';
  /** Spend gate slack (PacingOptions.gateSlack); Infinity: off. */
  gateSlack?: number;
}) {
  const rand = seededRandom(opts.seed);
  const cost = 1;
  const perMinute = opts.trueShares.map((s) => (opts.demand * s) / 60);
  const profile = new TrafficProfile({ minObservations: 1 });
  for (let h = 0; h < 24; h++) profile.observe('yesterday', (h + 0.5) / 24, opts.profileShares[h] * 1e6);
  profile.observe('today', 0, 0); // closes yesterday into the history
  const shares = profile.shares();
  const pid = new PacingController({ gateSlack: opts.gateSlack ?? Infinity });
  const thr = new ProbabilisticThrottle();
  const stepMin = opts.stepMin ?? 5;
  let spent = 0;
  let rate = 1;
  let allowance = Infinity;
  const hourly = new Array(24).fill(0);
  const rates: number[] = [];
  for (let m = 0; m < 1440; m++) {
    const t = m / 1440;
    if (m % stepMin === 0) {
      rate = opts.controller === 'throttle' ? thr.update(t, spent, opts.budget) : pid.update({ targetFraction: profile.cumulative(t, shares), spent, budget: opts.budget });
      allowance = pid.allowance(profile.cumulative(Math.min(1, (m + stepMin) / 1440), shares), opts.budget, cost);
      rates.push(rate);
    }
    const n = poisson(rand, perMinute[Math.floor(m / 60)]);
    for (let i = 0; i < n; i++) {
      if (spent < allowance && rand() < rate && spent + cost <= opts.budget) {
        spent += cost;
        hourly[Math.floor(m / 60)] += cost;
      }
    }
  }
  return { spent, hourly, rates, targets: hourlyTargets(opts.budget, shares) };
}

describe('PacingController', () => {
  const truth = diurnalShares();

  it('converges on a synthetic diurnal curve: the hourly spend tracks the target within 10%, the budget is used, never passed', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulateDay({ demand: 60_000, budget: 20_000, profileShares: truth, trueShares: truth, seed });
      const err = spendError(r.hourly, r.targets);
      assert.ok(r.spent <= 20_000);
      assert.ok(r.spent >= 0.98 * 20_000, `utilisation ${r.spent / 20_000}`);
      assert.ok(err.weighted <= 0.1, `seed ${seed}: weighted hourly error ${err.weighted.toFixed(3)}`);
      // after the first hours the cumulative spend stays within 5% of the budget of the target
      const cs = cumulative(r.hourly);
      const ct = cumulative(r.targets);
      for (let h = 3; h < 24; h++) assert.ok(Math.abs(cs[h] - ct[h]) <= 0.05 * 20_000, `hour ${h}: ${cs[h].toFixed(0)} vs ${ct[h].toFixed(0)}`);
    }
  });

  it('tracks the curve better than plain probabilistic throttling (uniform plan)', () => {
    const pid = simulateDay({ demand: 60_000, budget: 20_000, profileShares: truth, trueShares: truth, seed: 9 });
    const thr = simulateDay({ demand: 60_000, budget: 20_000, profileShares: truth, trueShares: truth, seed: 9, controller: 'throttle' });
    const e1 = spendError(pid.hourly, pid.targets).weighted;
    const e2 = spendError(thr.hourly, pid.targets).weighted;
    assert.ok(e1 < e2, `pid ${e1.toFixed(3)} vs throttle ${e2.toFixed(3)}`);
  });

  it('the spend gate cuts what chance adds inside a step: a campaign with ~15 billing events an hour tracks its hourly target closer with it', () => {
    for (const seed of [21, 22, 23]) {
      const base = { demand: 1000, budget: 360, profileShares: truth, trueShares: truth, seed };
      const off = simulateDay(base);
      const on = simulateDay({ ...base, gateSlack: 0.003 });
      const eOff = spendError(off.hourly, off.targets).weighted;
      const eOn = spendError(on.hourly, on.targets).weighted;
      assert.ok(eOn < 0.8 * eOff, `seed ${seed}: gate ${eOn.toFixed(3)} vs throttle alone ${eOff.toFixed(3)}`);
      assert.ok(on.spent >= 0.97 * 360 && on.spent <= 360, `utilisation ${on.spent / 360}`);
    }
  });

  it('the allowance is the target at the end of the step plus slack (at least the minimum), never above the budget', () => {
    const c = new PacingController({ gateSlack: 0.01 });
    assert.equal(c.allowance(0.5, 1000), 510);
    assert.equal(c.allowance(0.5, 1000, 25), 525);
    assert.equal(c.allowance(1, 1000, 25), 1000);
    assert.equal(c.allowance(-1, 1000), 10);
    assert.equal(new PacingController({ gateSlack: Infinity }).allowance(0.1, 1000), 1000);
  });

  it('still spends the whole budget when the learned profile is uniform (the first day)', () => {
    const u = new Array(24).fill(1 / 24);
    const r = simulateDay({ demand: 60_000, budget: 20_000, profileShares: u, trueShares: truth, seed: 4 });
    assert.ok(r.spent >= 0.98 * 20_000, `utilisation ${r.spent / 20_000}`);
  });

  it('participates fully when demand is below the budget, and stops at zero once spent', () => {
    const r = simulateDay({ demand: 10_000, budget: 20_000, profileShares: truth, trueShares: truth, seed: 5 });
    assert.ok(r.rates.slice(10).every((x) => x === 1));
    const c = new PacingController();
    assert.equal(c.update({ targetFraction: 0.5, spent: 100, budget: 100 }), 0);
    assert.equal(c.update({ targetFraction: 0.5, spent: 0, budget: 0 }), 0);
  });

  it('keeps its state across a restart and resets the day', () => {
    const a = new PacingController();
    a.update({ targetFraction: 0.1, spent: 0, budget: 1000 });
    a.update({ targetFraction: 0.2, spent: 400, budget: 1000 });
    const b = new PacingController({}, a.state());
    assert.equal(b.update({ targetFraction: 0.3, spent: 450, budget: 1000 }), a.update({ targetFraction: 0.3, spent: 450, budget: 1000 }));
    assert.ok(a.rate < 1, 'ahead of the target: throttled');
    a.resetDay();
    assert.equal(a.state().lastF, null);
  });
});

describe('TrafficProfile and spend curves', () => {
  it('is uniform until it has seen enough, then follows the completed days', () => {
    const p = new TrafficProfile({ minObservations: 100, uniformMix: 0 });
    assert.deepEqual(p.shares(), new Array(24).fill(1 / 24));
    for (let h = 0; h < 24; h++) p.observe('d1', (h + 0.5) / 24, h < 12 ? 10 : 30);
    assert.deepEqual(p.shares(), new Array(24).fill(1 / 24), 'today alone does not count');
    p.observe('d2', 0.1, 1);
    const s = p.shares();
    assert.ok(Math.abs(s[20] / s[3] - 3) < 1e-9);
    assert.ok(Math.abs(p.cumulative(0.5, s) - 0.25) < 1e-9);
    assert.equal(p.cumulative(1), 1);
    assert.equal(p.cumulative(0), 0);
    const restored = new TrafficProfile({ minObservations: 100, uniformMix: 0 }, p.state());
    assert.deepEqual(restored.shares(), s);
  });

  it('spendError, hourlyTargets and zonedTime', () => {
    const t = hourlyTargets(240, new Array(24).fill(1));
    assert.ok(t.every((x) => x === 10));
    const e = spendError([...new Array(23).fill(10), 20], t);
    assert.ok(Math.abs(e.weighted - 10 / 240) < 1e-12);
    assert.ok(Math.abs(e.meanRelative - 1 / 24) < 1e-12);
    // 2026-03-01 23:30 UTC is 00:30 on 2 March in Berlin and 18:30 on 1 March in New York
    const ts = Date.UTC(2026, 2, 1, 23, 30);
    assert.deepEqual(zonedTime(ts, 'Europe/Berlin'), { day: '2026-03-02', hour: 0, dayFraction: 0.5 / 24 });
    assert.equal(zonedTime(ts, 'America/New_York').day, '2026-03-01');
    assert.equal(zonedTime(ts, 'America/New_York').hour, 18);
    assert.equal(diurnalShares().length, 24);
  });
});
