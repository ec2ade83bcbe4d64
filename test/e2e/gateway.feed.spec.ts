import assert from 'node:assert/strict';
import type { FeedStage } from '@recsys/contracts';
import { TrackingTokens } from '../../apps/gateway/src/feed/tracking-token';
import { eventually, getJson } from '../support/suite';
import { startGatewayWithFakes } from './gateway.harness';

/**
 * GET /v1/feed against stand-in stages (test/e2e/gateway.fakes.ts): the full plan, every forbidden
 * item kept out, each stage stopped in turn (down, late, missing, wrong answer) still answering 200
 * with the right degraded flags, and the circuit breakers.
 */
describe('gateway feed (embedded, stand-in stages)', () => {
  let gw: Awaited<ReturnType<typeof startGatewayWithFakes>>;
  const items = Array.from({ length: 60 }, (_, i) => ({ itemId: `it-${i}`, group: `g${i % 4}` }));
  const feed = (q: string) => getJson(`${gw.url}/v1/feed?${q}`);

  beforeAll(async () => {
    gw = await startGatewayWithFakes({
      GATEWAY_DEADLINES: 'experiments=2000,history=2000,retrieval=2000,ranking=2000,slates=2000,adload=2000,ads=2000',
      GATEWAY_TOTAL_DEADLINE_MS: '15000',
      GATEWAY_BREAKER_FAILURES: '3',
      GATEWAY_BREAKER_COOLDOWN_MS: '300',
    });
    gw.fakes.items = items;
    gw.fakes.slowMs = 30000;
    // it-58 is deleted from the catalog; rogue ids: a deleted item and one the catalog never had.
    gw.fakes.rogueIds = ['it-58', 'ghost-1'];
    await gw.seedCatalog(items, ['it-58']);
    await gw.pauseCampaign('camp-paused');
  });
  afterAll(async () => gw?.close());
  beforeEach(() => gw.fakes.reset());

  it('serves the full plan: variants, the slate policy from the override, ads at the decided positions, signed tracking tokens', async () => {
    const r = await feed('userId=u-full&limit=10');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const b = r.body;
    assert.deepEqual(b.degraded, []);
    assert.equal(b.coverage, 1);
    assert.equal(b.source, 'retrieval');
    assert.deepEqual(b.variants, { 'slate-policy-test': 'treatment' });
    assert.equal(gw.fakes.lastRequests.slates.policy, 'in_slate_ts');
    assert.equal(b.slatePolicy, 'in_slate_ts');
    const organic = b.items.filter((i: any) => !i.isAd);
    const ads = b.items.filter((i: any) => i.isAd);
    assert.equal(organic.length, 10);
    // The paused campaign's ad (slot 5) is dropped; the live one sits at position 2.
    assert.deepEqual(
      ads.map((a: any) => [a.adId, a.position, a.campaignId]),
      [['ad-1', 2, 'camp-live']],
    );
    assert.equal(ads[0].propensity, 0.25);
    assert.equal(ads[0].adToken, 'ads-token-ad-1');
    assert.equal(ads[0].eCPM, 2.5);
    // The fill knows the feed's requestId (the ads app bills a feed.feedback click through it).
    assert.equal(gw.fakes.lastRequests.ads.context.requestId, b.requestId);
    assert.deepEqual(b.adLoad, { decisionId: b.adLoad.decisionId, policyId: 'adload-policy-3', adSlots: 2, positions: [2, 5], propensity: 0.25, filled: 1 });
    b.items.forEach((it: any, i: number) => assert.equal(it.position, i));
    // The slate's propensities; the item the slate invented is dropped and its slot backfilled from
    // the ranked order (propensity 1: chosen deterministically).
    assert.deepEqual(
      organic.map((o: any) => o.propensity),
      [...Array(9).fill(0.5), 1],
    );
    assert.ok(!organic.some((o: any) => o.itemId === 'never-given'));
    assert.equal(b.versions.rankingModelVersion, 'v7');
    const tokens = new TrackingTokens('tracking:recsys-development-secret');
    for (const it of b.items) {
      const p = tokens.verify(it.trackingToken)!;
      assert.ok(p, 'token verifies');
      assert.deepEqual([p.r, p.i, p.p, p.q, p.a, p.v], [b.requestId, it.itemId, it.position, it.propensity, it.isAd, b.variants]);
    }
    assert.equal(tokens.verify(b.items[0].trackingToken.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A'))), undefined);
  });

  it('never serves a forbidden item: seen, in the history, excluded, deleted, unknown, outside the surface groups, or invented by a stage', async () => {
    gw.fakes.history.set('u-forbid', ['it-0', 'it-1', 'it-2']);
    const seenFirst = await feed('userId=u-forbid&limit=8&exclude=it-3,it-4');
    assert.equal(seenFirst.status, 200);
    const firstIds: string[] = seenFirst.body.items.filter((i: any) => !i.isAd).map((i: any) => i.itemId);
    // The gateway passes its exclusions to retrieval ...
    const sent = gw.fakes.lastRequests.retrieval;
    for (const x of ['it-0', 'it-1', 'it-2', 'it-3', 'it-4']) assert.ok(sent.filter.excludeIds.includes(x));
    // ... and filters what comes back, whatever retrieval and slates answer.
    const forbidden = new Set(['it-0', 'it-1', 'it-2', 'it-3', 'it-4', 'it-58', 'ghost-1', 'never-given']);
    for (const id of firstIds) assert.ok(!forbidden.has(id), `${id} is forbidden`);
    // What was shown is excluded from the next fetch.
    await eventually(async () => {
      const next = await feed('userId=u-forbid&limit=8');
      const ids: string[] = next.body.items.filter((i: any) => !i.isAd).map((i: any) => i.itemId);
      return ids.length === 8 && ids.every((id) => !forbidden.has(id) && !firstIds.includes(id));
    });
    // A surface restricted to groups g0 and g1 gets only those, from retrieval and from the fallback.
    const kids = await feed('userId=u-kids&surface=kids&limit=12');
    assert.equal(gw.fakes.lastRequests.retrieval.filter.groups.join(','), 'g0,g1');
    assert.ok(
      kids.body.items.filter((i: any) => !i.isAd).every((i: any) => ['g0', 'g1'].includes(i.group)),
      JSON.stringify(kids.body.items),
    );
    gw.fakes.modes.retrieval = 'down';
    const kidsFallback = await feed('userId=u-kids2&surface=kids&limit=12');
    assert.equal(kidsFallback.body.source, 'popular');
    assert.ok(kidsFallback.body.items.length > 0);
    for (const it of kidsFallback.body.items.filter((i: any) => !i.isAd)) {
      assert.ok(['g0', 'g1'].includes(it.group) && !['it-58', 'ghost-1', 'never-given'].includes(it.itemId), JSON.stringify(it));
    }
  });

  const cases: [FeedStage, 'down' | 'slow' | 'missing' | 'garbage'][] = [
    ['experiments', 'down'],
    ['history', 'slow'],
    ['retrieval', 'slow'],
    ['ranking', 'down'],
    ['slates', 'missing'],
    ['adload', 'garbage'],
    ['ads', 'slow'],
  ];
  it.each(cases)('with %s %s the feed is still 200 and lists exactly that stage as degraded', async (stage, mode) => {
    // Some impressions first, so the popular fallback has something to serve.
    await feed('userId=u-warm&limit=20');
    gw.fakes.reset();
    gw.fakes.modes[stage] = mode;
    const t0 = Date.now();
    const r = await feed(`userId=u-${stage}&limit=10`);
    const took = Date.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const b = r.body;
    assert.deepEqual(b.degraded, [stage]);
    assert.ok(b.degradedReasons[stage]);
    assert.ok(b.coverage < 1 && b.coverage > 0.8, String(b.coverage));
    // A late stage is abandoned at its deadline, not waited for.
    if (mode === 'slow') assert.ok(took < 15000, `took ${took} ms with a stage 30000 ms late`);
    const organic = b.items.filter((i: any) => !i.isAd);
    assert.equal(organic.length, 10);
    assert.ok(organic.every((o: any) => !['it-58', 'ghost-1', 'never-given'].includes(o.itemId)));
    if (stage === 'experiments') {
      assert.deepEqual(b.variants, {});
      assert.equal(gw.fakes.lastRequests.slates.policy, undefined);
    }
    if (stage === 'retrieval') assert.equal(b.source, 'popular');
    if (stage === 'ranking') {
      // Retrieval scores stand in for pCTR (the stand-in's are 1 - rank/1000).
      assert.ok(
        organic.every((o: any) => o.score > 0.9),
        JSON.stringify(organic.map((o: any) => o.score)),
      );
    }
    if (stage === 'slates') {
      assert.equal(b.slatePolicy, 'ranked-order');
      assert.ok(organic.every((o: any) => o.propensity === 1));
      const scores = organic.map((o: any) => o.score);
      assert.deepEqual(
        scores,
        [...scores].sort((x: number, y: number) => y - x),
        'ranked order',
      );
    }
    if (stage === 'adload') {
      assert.equal(b.items.filter((i: any) => i.isAd).length, 0);
      assert.equal(b.adLoad, undefined);
      assert.equal(gw.fakes.calls.ads, 0);
    }
    if (stage === 'ads') {
      assert.equal(b.items.filter((i: any) => i.isAd).length, 0);
      assert.equal(b.adLoad.filled, 0);
    }
    // The decision record says the same.
    const rec = await eventually(async () => gw.impressions.find((e) => e.requestId === b.requestId));
    assert.deepEqual(rec.degraded, [stage]);
    assert.equal(rec.coverage, b.coverage);
  });

  it('answers 200 with everything down: popular items, no ads, coverage 0', async () => {
    for (const s of Object.keys(gw.fakes.modes) as FeedStage[]) gw.fakes.modes[s] = 'down';
    const r = await feed('userId=u-alldown&limit=5');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.degraded, ['experiments', 'history', 'retrieval', 'ranking', 'slates', 'adload']);
    assert.equal(r.body.coverage, 0);
    assert.equal(r.body.items.length, 5);
    assert.ok(r.body.items.every((i: any) => !i.isAd));
  });

  it('serves a new user (no embedding yet) popular items without calling it a degradation', async () => {
    gw.fakes.coldUsers.add('u-cold');
    const r = await feed('userId=u-cold&limit=5');
    assert.equal(r.body.source, 'popular');
    assert.deepEqual(r.body.degraded, []);
    assert.equal(r.body.items.filter((i: any) => !i.isAd).length, 5);
  });

  it('opens a stage breaker after repeated failures (no more calls), then closes it after the cooldown', async () => {
    gw.fakes.modes.ranking = 'down';
    for (let i = 0; i < 3; i++) await feed(`userId=u-breaker&limit=5`);
    assert.equal(gw.fakes.calls.ranking, 3);
    const open = await feed(`userId=u-breaker&limit=5`);
    assert.equal(gw.fakes.calls.ranking, 3, 'open breaker: ranking not called');
    assert.equal(open.body.degradedReasons.ranking, 'breaker_open');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /gateway_breaker_open\{stage="ranking",app="gateway"\} 1/);
    gw.fakes.modes.ranking = 'ok';
    const healed = await eventually(
      async () => {
        const r = await feed(`userId=u-breaker&limit=5`);
        return r.body.degraded.length === 0 ? r : undefined;
      },
      5000,
      50,
    );
    assert.equal(healed.status, 200);
    assert.ok(gw.fakes.calls.ranking >= 4);
  });

  it('publishes the decision record (feed.impressions record version 2)', async () => {
    const r = await feed('userId=u-record&limit=6');
    const rec = await eventually(async () => gw.impressions.find((e) => e.requestId === r.body.requestId));
    assert.equal(rec.recordVersion, 2);
    assert.equal(rec.userId, 'u-record');
    assert.equal(rec.key, 'u-record');
    assert.deepEqual(rec.variants, { 'slate-policy-test': 'treatment' });
    assert.deepEqual(
      rec.items.map((i) => [i.itemId, i.position, i.isAd, i.propensity]),
      r.body.items.map((i: any) => [i.itemId, i.position, i.isAd, i.propensity]),
    );
    const ad = rec.items.find((i) => i.isAd)!;
    assert.deepEqual([ad.adId, ad.campaignId, ad.price, ad.eCPM], ['ad-1', 'camp-live', 1.2, 2.5]);
    assert.equal(rec.adLoad!.propensity, 0.25);
    assert.equal(rec.adLoad!.decisionId, r.body.adLoad.decisionId);
    assert.equal(rec.adLoad!.sessionFetchIndex, 0);
    assert.deepEqual(rec.slate, { requestId: 'slate-req', policyId: 'in_slate_ts', size: 6 });
    assert.equal(rec.versions!.rankingModelVersion, 'v7');
    // Candidates: what ranking considered (retrieval minus the forbidden ones), with both scores,
    // best first, as many as the slate pool (GATEWAY_RECORD_CANDIDATES default 100).
    assert.ok(rec.candidates!.length >= 50 && rec.candidates!.length <= 100, `${rec.candidates!.length}`);
    assert.ok(rec.candidates!.every((c) => c.retrievalScore !== undefined && c.score !== undefined && !['it-58', 'ghost-1'].includes(c.itemId)));
    assert.ok(
      rec.candidates!.every((c, i, all) => i === 0 || all[i - 1]!.score! >= c.score!),
      'ranked order',
    );
    assert.deepEqual(rec.degraded, []);
    // The next fetch of the same session counts up.
    const r2 = await feed('userId=u-record&limit=6');
    const rec2 = await eventually(async () => gw.impressions.find((e) => e.requestId === r2.body.requestId));
    assert.equal(rec2.adLoad!.sessionFetchIndex, 1);
    assert.equal(gw.fakes.lastRequests.adload.sessionFetchIndex, 1);
  });

  it('rejects a bad query and an unknown surface with problem+json', async () => {
    const noUser = await feed('limit=5');
    assert.equal(noUser.status, 422);
    assert.match(noUser.type ?? '', /problem\+json/);
    assert.equal(noUser.body.code, 'validation_failed');
    assert.equal((await feed('userId=u&limit=1000')).status, 422);
    assert.equal((await feed('userId=u&bogus=1')).status, 422);
    const surface = await feed('userId=u&surface=nowhere');
    assert.equal(surface.status, 422);
    assert.equal(surface.body.code, 'unknown_surface');
  });
});
