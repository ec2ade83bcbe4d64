import { addSums, analyse, POST_COLUMNS, PRE_COLUMNS, PRODUCTS, sumsDelta, zeroTotals, type UserPre, type UserTotals, type VariantSums } from './metrics';
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
