import { addSums, analyse, applyUserEvent, POST_COLUMNS, PRE_COLUMNS, PRODUCTS, sumsDelta, zeroTotals, type UserPre, type UserTotals, type VariantSums } from './metrics';
import { poisson, rng } from './testing/synthetic';

describe('incremental variant sums', () => {
  it('equal the sums computed from final per-user totals, whatever the order of updates', () => {
    const r = rng(5);
    const users = 500;
    const totals = new Map<number, UserTotals>();
    const pres = new Map<number, UserPre>();
    const inc: VariantSums = {};
    for (let step = 0; step < 20_000; step++) {
      const u = Math.floor(r() * users);
      const before = totals.get(u);
      if (!pres.has(u)) pres.set(u, { preFetches: poisson(r, 3), preClicks: poisson(r, 1), preDwellSec: r() * 30, preRevenue: r() });
      const after = { ...(before ?? zeroTotals()) };
      after.fetches += 1;
      after.items += 10;
      after.adItems += poisson(r, 1);
      after.clicks += poisson(r, 0.5);
      after.dwellSec += r() * 5;
      after.revenue += r() < 0.1 ? r() : 0;
      if (r() < 0.2) after.activeDays += 1;
      addSums(inc, sumsDelta(before, after, pres.get(u)!));
      totals.set(u, after);
    }
    const batch: VariantSums = { n: totals.size };
    for (const [u, t] of totals) {
      const row: Record<string, number> = { ...t, ...pres.get(u)! };
      for (const c of [...POST_COLUMNS, ...PRE_COLUMNS]) {
        batch[`s.${c}`] = (batch[`s.${c}`] ?? 0) + row[c];
        batch[`q.${c}`] = (batch[`q.${c}`] ?? 0) + row[c] ** 2;
      }
      for (const [a, b] of PRODUCTS) batch[`p.${a}*${b}`] = (batch[`p.${a}*${b}`] ?? 0) + row[a] * row[b];
    }
    for (const [k, v] of Object.entries(batch)) expect(Math.abs((inc[k] ?? 0) - v)).toBeLessThanOrEqual(1e-7 * Math.max(1, Math.abs(v)));
  });

  it('analyse reports every metric, SRM and adjusted p-values', () => {
    const mk = (n: number, clicks: number): VariantSums => ({
      n,
      's.clicks': clicks,
      'q.clicks': clicks * 3,
      's.items': n * 10,
      'q.items': n * 120,
      'p.clicks*items': clicks * 10.5,
      's.revenue': n,
      'q.revenue': n * 3,
      's.fetches': n * 2,
      'q.fetches': n * 5,
      's.activeDays': n,
      'q.activeDays': n * 1.2,
      'p.fetches*activeDays': n * 2.3,
    });
    const res = analyse(
      [
        { key: 'control', weight: 0.5, sums: mk(52_000, 52_000) },
        { key: 'treatment', weight: 0.5, sums: mk(48_000, 50_000) },
      ],
      { correction: 'holm' },
    );
    expect(res.srm.alarm).toBe(true);
    const ctr = res.metrics.find((m) => m.metric === 'clicks_per_user' && m.variant === 'treatment')!;
    expect(ctr.lift).toBeCloseTo(50_000 / 48_000 - 1, 10);
    expect(ctr.chanceToWin).toBeGreaterThan(0.99);
    expect(ctr.adjustedPValue).toBeGreaterThanOrEqual(ctr.pValue!);
    expect(res.metrics.filter((m) => m.variant === 'control')).toHaveLength(6);
  });
});

describe('daily sums under out-of-order events', () => {
  it('prefix sums through each day equal the statistics of the users totals through that day', () => {
    const r = rng(17);
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05'];
    type Ev = { user: number; day: number; deltas: Partial<UserTotals> };
    const events: Ev[] = [];
    for (let i = 0; i < 3000; i++) {
      const day = Math.floor(r() * 5);
      events.push({ user: Math.floor(r() * 200), day, deltas: r() < 0.5 ? { fetches: 1, items: 10, adItems: poisson(r, 1) } : { clicks: 1, dwellSec: r() * 10 } });
    }
    // Arrival order shuffled: later days' events often arrive before earlier days' ones.
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [events[i], events[j]] = [events[j], events[i]];
    }
    const state = new Map<number, { byDay: Record<string, Partial<UserTotals>>; isNew: boolean; pre: UserPre }>();
    const total: VariantSums = {};
    const daily = new Map<string, VariantSums>();
    for (const e of events) {
      const s = state.get(e.user) ?? { byDay: {}, isNew: true, pre: { preFetches: e.user % 3, preClicks: e.user % 2, preDwellSec: 0, preRevenue: 0 } };
      state.set(e.user, s);
      // A user's exposure day is the earliest day it has (events before exposure never reach here).
      const firstDay = Math.min(...events.filter((x) => x.user === e.user).map((x) => x.day));
      const isNew = s.isNew && e.day === firstDay;
      if (s.isNew && !isNew) continue; // not exposed yet at this arrival: the store keeps such events pending
      const out = applyUserEvent(s.byDay, isNew, s.pre, days[e.day], e.deltas);
      s.isNew = false;
      addSums(total, out.total);
      for (const [d, x] of out.daily) daily.set(d, addSums(daily.get(d) ?? {}, x));
    }
    const cum: VariantSums = {};
    for (const d of days) {
      addSums(cum, daily.get(d) ?? {});
      const expected: VariantSums = {};
      for (const s of state.values()) {
        if (s.isNew) continue;
        const t = zeroTotals();
        let any = false;
        for (const [day, x] of Object.entries(s.byDay))
          if (day <= d) {
            any = true;
            for (const [k, v] of Object.entries(x)) t[k as keyof UserTotals] += v ?? 0;
          }
        if (!any) continue;
        addSums(expected, sumsDelta(undefined, t, s.pre));
      }
      for (const k of new Set([...Object.keys(expected), ...Object.keys(cum)])) {
        expect(Math.abs((cum[k] ?? 0) - (expected[k] ?? 0))).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[k] ?? 0)));
      }
    }
    for (const k of Object.keys(total)) expect(Math.abs(total[k] - cum[k])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(total[k])));
  });
});
