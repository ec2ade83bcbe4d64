import assert from 'node:assert/strict';
import { ADS_FILL, encodeFloat32, RETRIEVAL_CANDIDATES, stateKeys, type LocalAdsFill, type LocalCandidates } from '@recsys/contracts';
import { postJson } from '../support/suite';
import { admin, type AdsEnv, startAdsEnv, vec } from './ads.flow';
import { eventually } from '../support/suite';

/**
 * Retrieval and ads in one process: the fill reaches retrieval through the LocalDirectory (its HTTP
 * URL is a closed port, so an HTTP call would show as `degraded: ['retrieval']`), and the fill itself
 * is offered in process as `ads.fill` with the route's validation and problem codes.
 */
describe('ads in process (LocalDirectory: retrieval.candidates used, ads.fill offered)', () => {
  let env: AdsEnv;
  let localCalls = 0;
  beforeAll(async () => {
    env = await startAdsEnv({}, { ADS_RESERVE_ECPM: '1', ADS_PACING: 'off' }, true);
    await env.infra.state.set(stateKeys.userEmbedding('u1'), encodeFloat32(vec(1)));
    // Count the in-process retrieval calls (same use case, wrapped).
    const local = env.ads.contexts.get('ads')!.local;
    const inner = local.lookup<LocalCandidates>(RETRIEVAL_CANDIDATES)!;
    local.withdraw(RETRIEVAL_CANDIDATES);
    local.provide<LocalCandidates>(RETRIEVAL_CANDIDATES, (body) => {
      localCalls++;
      return inner(body);
    });
    for (const [id, bid] of [
      ['loc-a', 6],
      ['loc-b', 3],
    ] as const) {
      assert.equal((await admin(`${env.url}/v1/ads/campaigns`, 'POST', { id, name: id, bidType: 'cpm', bid, dailyBudget: 100, targeting: { surfaces: ['local'] } })).status, 201);
      assert.equal((await admin(`${env.url}/v1/ads/campaigns/${id}/creatives/${id}-ad`, 'PUT', { title: id, embedding: vec(bid) })).status, 201);
    }
    await eventually(async () => (await inner({ namespace: 'ads', k: 10, vector: vec(1) })).length === 2);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('answers what POST /v1/ads/fill answers, with retrieval called in process', async () => {
    const fill = env.ads.contexts.get('ads')!.local.lookup<LocalAdsFill>(ADS_FILL)!;
    assert.ok(fill, 'ads.fill is provided');
    const before = localCalls;
    const r = await fill({ userId: 'u1', surface: 'local', positions: [3, 8], context: { requestId: 'in-process-1' } });
    assert.deepEqual(r.degraded, []);
    assert.equal(localCalls, before + 1);
    assert.equal(r.requestId, 'in-process-1');
    assert.deepEqual(
      r.ads.map((a) => [a.adId, a.position, a.slot, a.priceEcpm]),
      [
        ['loc-a-ad', 3, 0, 3],
        ['loc-b-ad', 8, 1, 1],
      ],
    );
    const http = await postJson(`${env.url}/v1/ads/fill`, { userId: 'u1', surface: 'local', positions: [3, 8] });
    assert.equal(http.status, 200);
    assert.deepEqual(http.body.degraded, []);
    assert.equal(localCalls, before + 2);
    assert.deepEqual(
      http.body.ads.map((a: { adId: string; priceEcpm: number }) => [a.adId, a.priceEcpm]),
      r.ads.map((a) => [a.adId, a.priceEcpm]),
    );
  });

  it("rejects a bad body with the route's problem codes", async () => {
    const fill = env.ads.contexts.get('ads')!.local.lookup<LocalAdsFill>(ADS_FILL)!;
    await expect(fill({ userId: 'u1', surface: 'local', positions: [] })).rejects.toMatchObject({ code: 'validation_failed', status: 422 });
    await expect(fill({ userId: 'u1', surface: 'local', positions: [1], extra: true })).rejects.toMatchObject({ code: 'validation_failed', status: 422 });
    await expect(fill({ userId: 'u1', surface: 'local', positions: [1, 1] })).rejects.toMatchObject({ code: 'duplicate_positions', status: 422 });
  });

  it('falls back to HTTP when retrieval withdraws its call (here: a closed port, so the fill degrades)', async () => {
    const local = env.ads.contexts.get('ads')!.local;
    const mine = local.lookup<LocalCandidates>(RETRIEVAL_CANDIDATES)!;
    local.withdraw(RETRIEVAL_CANDIDATES);
    try {
      const fill = local.lookup<LocalAdsFill>(ADS_FILL)!;
      const r = await fill({ userId: 'u1', surface: 'local', positions: [0] });
      assert.deepEqual(r.degraded, ['retrieval']);
      assert.equal(r.ads.length, 1);
    } finally {
      local.provide(RETRIEVAL_CANDIDATES, mine);
    }
  });

  it('withdraws ads.fill when the app shuts down', async () => {
    const local = env.ads.contexts.get('ads')!.local;
    assert.equal(local.has(ADS_FILL), true);
    await env.close();
    assert.equal(local.has(ADS_FILL), false);
  });
});
