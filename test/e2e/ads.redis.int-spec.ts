/**
 * Budgets and frequency caps on real Redis (and real PostgreSQL for the campaigns): concurrent
 * fills through the HTTP API, and several replicas' connections reserving at once, never pass a
 * budget of N wins or a frequency cap.
 */
import assert from 'node:assert/strict';
import { encodeFloat32, stateKeys } from '@recsys/contracts';
import { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { BudgetLedger } from '../../apps/ads/src/domain/budget';
import { eventually, postJson } from '../support/suite';
import { admin, type AdsEnv, startAdsEnv, vec } from './ads.flow';

const real = realInfra();

describe('ads budgets on real Redis', () => {
  let env: AdsEnv;
  let url: string;
  const prefix = `${uniqueName('ads')}:`;
  const tag = uniqueName('c').replace(/[^A-Za-z0-9-]/g, '');

  beforeAll(async () => {
    env = await startAdsEnv({ REDIS_URL: real.redisUrl, DATABASE_URL: real.databaseUrl, STATE_PREFIX: prefix }, { ADS_RESERVE_ECPM: '1', ADS_PACING: 'off' });
    url = env.url;
    assert.equal(env.infra.kinds.state, 'redis');
    for (let i = 0; i < 500; i++) await env.infra.state.set(stateKeys.userEmbedding(`${tag}-u${i}`), encodeFloat32(vec(i)));
  });
  afterAll(async () => {
    if (env) {
      const left = await env.infra.state.scanKeys('*');
      for (let i = 0; i < left.length; i += 500) await env.infra.state.del(...left.slice(i, i + 500));
      await env.close();
    }
  });

  async function campaignWithAd(id: string, surface: string, extra: Record<string, unknown>) {
    const c = await admin(`${url}/v1/ads/campaigns`, 'POST', { id, name: id, bidType: 'cpm', bid: 5, dailyBudget: 100, timeZone: 'Europe/Berlin', targeting: { surfaces: [surface] }, ...extra });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal((await admin(`${url}/v1/ads/campaigns/${id}/creatives/${id}-ad`, 'PUT', { embedding: vec(3) })).status, 201);
    await eventually(async () => {
      const r = await postJson(`${env.retrievalUrl}/v1/candidates`, { namespace: 'ads', k: 1000, vector: vec(3) });
      return r.status === 200 && r.body.some((x: { itemId: string }) => x.itemId === `${id}-ad`);
    });
  }

  it('500 concurrent fills against a budget of N = 37 wins: exactly N win, spend never passes the budget', async () => {
    const id = `${tag}-budget`;
    // Alone on its surface, every win pays the reserve: 1 per mille = 1000 micros; 37 wins = 0.037.
    await campaignWithAd(id, `${tag}-s1`, { dailyBudget: 0.037 });
    const fills = await Promise.all(Array.from({ length: 500 }, (_, i) => postJson(`${url}/v1/ads/fill`, { userId: `${tag}-u${i}`, surface: `${tag}-s1`, positions: [0] })));
    assert.ok(
      fills.every((r) => r.status === 200),
      JSON.stringify(fills.find((r) => r.status !== 200)?.body),
    );
    const wins = fills.flatMap((r) => r.body.ads);
    assert.equal(wins.length, 37);
    assert.ok(wins.every((a: { price: number }) => a.price === 1));
    let d = (await admin(`${url}/v1/ads/campaigns/${id}/delivery`, 'GET')).body;
    assert.equal(Math.round((d.spent + d.reserved) * 1e6), 37_000);
    // bill every win, twice: spend = budget exactly, nothing reserved
    for (const a of wins) {
      for (let k = 0; k < 2; k++) assert.equal((await postJson(`${url}/v1/ads/events`, { token: a.token, type: 'impression', eventId: `imp-${a.token}` })).status, 202);
    }
    d = await eventually(async () => {
      const x = (await admin(`${url}/v1/ads/campaigns/${id}/delivery`, 'GET')).body;
      return x.impressions === 37 && x;
    });
    assert.equal(Math.round(d.spent * 1e6), 37_000);
    assert.equal(d.reserved, 0);
    assert.equal((await postJson(`${url}/v1/ads/fill`, { userId: `${tag}-u1`, surface: `${tag}-s1`, positions: [0] })).body.ads.length, 0);
  });

  it('a frequency cap of 3 holds for one user under 200 concurrent fills', async () => {
    const id = `${tag}-cap`;
    await campaignWithAd(id, `${tag}-s2`, { frequencyCap: 3 });
    const fills = await Promise.all(Array.from({ length: 200 }, () => postJson(`${url}/v1/ads/fill`, { userId: `${tag}-u7`, surface: `${tag}-s2`, positions: [0] })));
    assert.equal(fills.filter((r) => r.body.ads.length === 1).length, 3);
  });

  it('four replicas (own Redis connections) reserving 2000 times at once never pass the budget or the cap', async () => {
    const stores = Array.from({ length: 4 }, () => new RedisStateStore(real.redisUrl, { keyPrefix: prefix }));
    try {
      const ledgers = stores.map((s) => new BudgetLedger(s));
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          ledgers[i % 4].reserve({
            campaignId: `${tag}-multi`,
            day: '2030-01-01',
            token: `t${i}`,
            amountMicros: 1000 + (i % 7) * 100,
            dailyBudgetMicros: 250_000,
            totalBudgetMicros: 400_000,
            userId: `user-${i % 50}`,
            frequencyCap: 4,
            expiresAt: now + 60_000,
            now,
          }),
        ),
      );
      const won = results.map((r, i) => (r === 'reserved' ? 1000 + (i % 7) * 100 : 0)).reduce((a, b) => a + b, 0);
      assert.ok(won <= 250_000 && won > 250_000 - 1600, `reserved ${won}`);
      const perUser = new Map<number, number>();
      results.forEach((r, i) => r === 'reserved' && perUser.set(i % 50, (perUser.get(i % 50) ?? 0) + 1));
      assert.ok([...perUser.values()].every((n) => n <= 4));
      const day = await ledgers[0].day(`${tag}-multi`, '2030-01-01');
      assert.equal(day.reserved, won);
      assert.ok(results.includes('frequency_cap') || results.includes('budget'));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('expired reservations are released (lazily when the budget is short, and by the sweep); a late billing event is not billed', async () => {
    const ledger = new BudgetLedger(env.infra.state);
    const c = `${tag}-exp`;
    const t0 = Date.now();
    const base = { campaignId: c, day: '2030-01-02', amountMicros: 600, dailyBudgetMicros: 1000, totalBudgetMicros: null, userId: 'u', frequencyCap: null };
    assert.equal(await ledger.reserve({ ...base, token: 'a', expiresAt: t0 + 1000, now: t0 }), 'reserved');
    assert.equal(await ledger.reserve({ ...base, token: 'b', expiresAt: t0 + 1000, now: t0 + 10 }), 'budget');
    assert.equal(await ledger.reserve({ ...base, token: 'b', expiresAt: t0 + 5000, now: t0 + 2000 }), 'reserved', 'a expired and was released');
    assert.deepEqual(await ledger.settle({ campaignId: c, day: '2030-01-02', token: 'a', eventId: 'late', bill: true, impression: true, click: false, hour: 1 }), { status: 'late' });
    assert.equal(await ledger.sweep(c, '2030-01-02', t0 + 6000), 1);
    const d = await ledger.day(c, '2030-01-02');
    assert.equal(d.reserved, 0);
    assert.equal(d.spent, 0);
    assert.equal(d.late, 1);
    // conversions: counted by hour once per event id (the Lua script's own branch), never billed
    const conv = { campaignId: c, day: '2030-01-02', token: 'b', eventId: 'conv', bill: false, impression: false, click: false, conversion: true, hour: 7 };
    assert.deepEqual(await ledger.settle(conv), { status: 'counted' });
    assert.deepEqual(await ledger.settle(conv), { status: 'duplicate' });
    const after = await ledger.day(c, '2030-01-02');
    assert.deepEqual([after.conversions, after.hourly.conversions[7], after.spent], [1, 1, 0]);
  });
});
