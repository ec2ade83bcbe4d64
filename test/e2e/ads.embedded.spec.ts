import assert from 'node:assert/strict';
import { encodeFloat32, stateKeys, TOPICS } from '@recsys/contracts';
import type { BusRecord } from '@recsys/infra/event-bus/event-bus.port';
import { DLQ_HEADERS, EventPublisher } from '@recsys/messaging';
import { eventually, getJson, postJson } from '../support/suite';
import { admin, type AdsEnv, startAdsEnv, vec } from './ads.flow';

const campaign = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `campaign ${id}`,
  bidType: 'cpm',
  bid: 2,
  dailyBudget: 100,
  timeZone: 'UTC',
  ...extra,
});

describe('ads service (embedded adapters, retrieval app, stub ranking)', () => {
  let env: AdsEnv;
  let url: string;
  let publisher: EventPublisher;
  const catalog: BusRecord[] = [];
  const adsEvents: BusRecord[] = [];

  beforeAll(async () => {
    env = await startAdsEnv({}, { ADS_RESERVE_ECPM: '1', ADS_PACING: 'off' });
    url = env.url;
    publisher = new EventPublisher(env.infra.bus);
    await env.infra.bus.subscribe({ groupId: 'watch-catalog', topics: [TOPICS.catalogItems], fromBeginning: true, handler: async (r) => void catalog.push(r) });
    await env.infra.bus.subscribe({ groupId: 'watch-ads', topics: [TOPICS.adsEvents], fromBeginning: true, handler: async (r) => void adsEvents.push(r) });
    for (const u of ['u1', 'u2', 'u3']) await env.infra.state.set(stateKeys.userEmbedding(u), encodeFloat32(vec(1)));
  });
  afterAll(async () => {
    await env?.close();
  });

  const creative = (cid: string, adId: string, i: number) => admin(`${url}/v1/ads/campaigns/${cid}/creatives/${adId}`, 'PUT', { title: adId, embedding: vec(i) });
  const indexed = (adId: string) =>
    eventually(async () => {
      const r = await postJson(`${env.retrievalUrl}/v1/candidates`, { namespace: 'ads', k: 1000, vector: vec(1) });
      return r.status === 200 && r.body.some((c: { itemId: string }) => c.itemId === adId);
    });

  it('admin routes need the token and validate with problem+json', async () => {
    const anon = await postJson(`${url}/v1/ads/campaigns`, campaign('x'));
    assert.equal(anon.status, 401);
    assert.equal(anon.body.code, 'unauthorized');
    const bad = await admin(`${url}/v1/ads/campaigns`, 'POST', { ...campaign('bad'), bid: -1, timeZone: 'Mars/Olympus', startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' });
    assert.equal(bad.status, 422);
    assert.match(bad.type ?? '', /application\/problem\+json/);
    assert.equal(bad.body.code, 'validation_failed');
    const paths = bad.body.errors.map((e: { path: string }) => e.path);
    assert.ok(paths.includes('bid'), JSON.stringify(paths));
    // Rules JSON Schema cannot state are the service's, each with its own code.
    const zone = await admin(`${url}/v1/ads/campaigns`, 'POST', { ...campaign('zone'), timeZone: 'Mars/Olympus' });
    assert.equal(zone.status, 422);
    assert.equal(zone.body.code, 'unknown_time_zone');
    const order = await admin(`${url}/v1/ads/campaigns`, 'POST', { ...campaign('order'), startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' });
    assert.equal(order.status, 422);
    assert.equal(order.body.code, 'invalid_schedule');
    assert.equal((await admin(`${url}/v1/ads/campaigns/nope`, 'GET')).status, 404);
    assert.equal((await admin(`${url}/v1/ads/campaigns/nope/delivery?day=yesterday`, 'GET')).status, 422);
  });

  it('creates, updates, pauses, resumes and archives a campaign; each change goes to ads.events', async () => {
    const c = await admin(`${url}/v1/ads/campaigns`, 'POST', campaign('life', { frequencyCap: 3, targeting: { surfaces: ['home'] } }));
    assert.equal(c.status, 201);
    assert.equal(c.body.status, 'active');
    assert.equal(c.body.bid, 2);
    assert.equal((await admin(`${url}/v1/ads/campaigns`, 'POST', campaign('life'))).status, 409);
    const u = await admin(`${url}/v1/ads/campaigns/life`, 'PATCH', { bid: 2.5, dailyBudget: 50 });
    assert.equal(u.status, 200);
    assert.equal(u.body.bid, 2.5);
    assert.equal(u.body.version, 2);
    assert.equal((await admin(`${url}/v1/ads/campaigns/life/pause`, 'POST')).body.status, 'paused');
    assert.equal((await admin(`${url}/v1/ads/campaigns/life/resume`, 'POST')).body.status, 'active');
    const cr = await creative('life', 'life-ad', 3);
    assert.equal(cr.status, 201);
    assert.equal(cr.body.dim, 8);
    assert.equal((await creative('life', 'life-ad', 4)).status, 200);
    assert.equal((await admin(`${url}/v1/ads/campaigns/life/archive`, 'POST')).body.status, 'archived');
    const frozen = await admin(`${url}/v1/ads/campaigns/life`, 'PATCH', { bid: 3 });
    assert.equal(frozen.status, 409);
    assert.equal(frozen.body.code, 'campaign_archived');
    await eventually(async () => {
      const types = adsEvents
        .map((r) => JSON.parse(r.value.toString()))
        .filter((e) => e.campaignId === 'life')
        .map((e) => e.type);
      return types.filter((t) => t === 'campaign_upsert').length >= 4 && types.includes('campaign_pause') && types.includes('campaign_archive');
    });
    // The creative went to catalog.items (namespace ads, group = campaign) and left it on archive.
    await eventually(async () => {
      const evs = catalog.map((r) => JSON.parse(r.value.toString())).filter((e) => e.itemId === 'life-ad');
      return evs.length === 3 && evs[0].namespace === 'ads' && evs[0].group === 'life' && evs[2].op === 'delete';
    });
  });

  it('fills the slots with an auction on eCPM: ranking pCTRs, second prices, one ad per campaign, tokens', async () => {
    for (const [id, bidType, bid] of [
      ['cpc-hi', 'cpc', 1],
      ['cpm-mid', 'cpm', 6],
      ['cpm-lo', 'cpm', 3],
    ] as const) {
      assert.equal((await admin(`${url}/v1/ads/campaigns`, 'POST', campaign(id, { bidType, bid, targeting: { surfaces: ['feed'] } }))).status, 201);
    }
    await creative('cpc-hi', 'cpc-hi-a', 1);
    await creative('cpc-hi', 'cpc-hi-b', 2);
    await creative('cpm-mid', 'cpm-mid-a', 6);
    await creative('cpm-lo', 'cpm-lo-a', 11);
    await indexed('cpm-lo-a');
    env.ranking.pctr.set('cpc-hi-a', 0.01).set('cpc-hi-b', 0.002); // eCPM 10 and 2

    const r = await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'feed', positions: [2, 7, 11] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.degraded, []);
    assert.deepEqual(
      r.body.ads.map((a: any) => [a.adId, a.position, a.slot, +a.ecpm.toFixed(6), +a.priceEcpm.toFixed(6), +a.price.toFixed(6)]),
      [
        ['cpc-hi-a', 2, 0, 10, 6, 0.6], // pays the next eCPM: 6 per mille = 0.6 per click at pCTR 0.01
        ['cpm-mid-a', 7, 1, 6, 3, 3],
        ['cpm-lo-a', 11, 2, 3, 1, 1], // the reserve
      ],
    );
    for (const a of r.body.ads) assert.ok(a.token.length > 10);
    // another surface: not targeted
    assert.deepEqual((await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'search', positions: [0] })).body.ads, []);
    // the fills are recorded with their prices
    const ads = env.ads.contexts.get('ads')!;
    void ads;
    await eventually(async () => {
      const rows = await env.infra.sql.query<{ ad_id: string; price_micros: string }>('SELECT ad_id, price_micros FROM ad_fills WHERE request_id = $1 ORDER BY slot', [r.body.requestId]);
      return rows.rows.length === 3 && rows.rows.map((x) => Number(x.price_micros)).join() === '600000,3000000,1000000';
    });
  });

  it('degrades to campaign priors without ranking and to all eligible ads without retrieval', async () => {
    env.ranking.down = true;
    try {
      const r = await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'feed', positions: [0] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.degraded, ['ranking']);
      assert.equal(r.body.ads[0].pctr, 0.01); // the prior
    } finally {
      env.ranking.down = false;
    }
    const noEmbedding = await postJson(`${url}/v1/ads/fill`, { userId: 'stranger', surface: 'feed', positions: [0, 1] });
    assert.deepEqual(noEmbedding.body.degraded, ['retrieval']);
    assert.equal(noEmbedding.body.ads.length, 2);
  });

  it('bills CPM on the impression and CPC on the click, once per event id, and reports delivery by hour', async () => {
    const r = await postJson(`${url}/v1/ads/fill`, { userId: 'u2', surface: 'feed', positions: [0, 1], context: { requestId: 'req-bill' } });
    const [cpc, cpm] = r.body.ads;
    assert.equal(cpc.bidType, 'cpc');
    assert.equal(cpm.bidType, 'cpm');
    const before = (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery`, 'GET')).body;
    const imp = { token: cpm.token, type: 'impression', eventId: 'imp-1' };
    assert.equal((await postJson(`${url}/v1/ads/events`, imp)).status, 202);
    assert.equal((await postJson(`${url}/v1/ads/events`, imp)).status, 202); // replay
    await postJson(`${url}/v1/ads/events`, { token: cpc.token, type: 'impression', eventId: 'imp-2' });
    // the CPC click arrives through feed.feedback (request id + ad id)
    const click = { eventId: 'fb-1', key: 'u2', timestamp: Date.now(), schemaVersion: 1 as const, requestId: 'req-bill', userId: 'u2', itemId: cpc.adId, type: 'click' as const };
    await publisher.publish(TOPICS.feedFeedback, [click, click]);
    const day = new Date().toISOString().slice(0, 10);
    const cpmD = await eventually(async () => {
      const d = (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery?day=${day}`, 'GET')).body;
      return d.impressions === before.impressions + 1 && d;
    });
    const price = cpm.price / 1000;
    assert.ok(Math.abs(cpmD.spent - before.spent - price) < 1e-9, `spent ${cpmD.spent - before.spent}, price ${price}`);
    const hour = new Date().getUTCHours();
    assert.equal(cpmD.hours.length, 24);
    assert.ok(cpmD.hours[hour].impressions >= 1);
    assert.ok(Math.abs(cpmD.hours.reduce((s: number, h: any) => s + h.targetSpend, 0) - cpmD.dailyBudget) < 1e-6);
    const cpcD = await eventually(async () => {
      const d = (await admin(`${url}/v1/ads/campaigns/cpc-hi/delivery`, 'GET')).body;
      return d.clicks === 1 && d.impressions === 1 && d;
    });
    assert.ok(Math.abs(cpcD.spent - cpc.price) < 1e-9);
    assert.equal(cpcD.ctr, 1);
    // replay everything once more: nothing changes
    await postJson(`${url}/v1/ads/events`, imp);
    await publisher.publish(TOPICS.feedFeedback, [click]);
    await postJson(`${url}/v1/ads/events`, { token: cpm.token, type: 'impression', eventId: 'imp-after' }); // new id, reservation already settled
    await eventually(async () => (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery`, 'GET')).body.lateBillingEvents === 1);
    const again = (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery`, 'GET')).body;
    assert.equal(again.spent, cpmD.spent);
    assert.equal((await admin(`${url}/v1/ads/campaigns/cpc-hi/delivery`, 'GET')).body.spent, cpcD.spent);
    assert.equal((await postJson(`${url}/v1/ads/events`, { token: 'garbage', type: 'click' })).status, 422);
  });

  it('a forged or edited token bills nothing (422 on the route, dead-lettered on ads.events); conversions are counted, not billed', async () => {
    const r = await postJson(`${url}/v1/ads/fill`, { userId: 'u2', surface: 'feed', positions: [0, 1], context: { requestId: 'req-forge' } });
    const cpm = r.body.ads.find((a: any) => a.bidType === 'cpm');
    const [payload, mac] = cpm.token.split('.');
    const fields = JSON.parse(Buffer.from(payload, 'base64url').toString());
    // the same win re-addressed to another campaign, with the original mac; and an unsigned token naming a live reservation
    const edited = `${Buffer.from(JSON.stringify({ ...fields, c: 'cpc-hi', a: 'cpc-hi-a', b: 'cpc' })).toString('base64url')}.${mac}`;
    const unsigned = payload;
    for (const token of [edited, unsigned]) {
      const res = await postJson(`${url}/v1/ads/events`, { token, type: 'click' });
      assert.equal(res.status, 422);
      assert.equal(res.body.code, 'invalid_token');
    }
    const before = (await admin(`${url}/v1/ads/campaigns/cpc-hi/delivery`, 'GET')).body;
    const dead: BusRecord[] = [];
    const sub = await env.infra.bus.subscribe({ groupId: 'ads-forge-watch', topics: ['ads.events.dlq'], fromBeginning: true, handler: async (x) => void dead.push(x) });
    await publisher.publish(TOPICS.adsEvents, [
      { eventId: 'forged-1', key: 'cpc-hi-a', adId: 'cpc-hi-a', campaignId: 'cpc-hi', type: 'click', token: edited, timestamp: Date.now(), schemaVersion: 1 },
    ]);
    await eventually(async () => dead.some((d) => JSON.parse(d.value.toString()).eventId === 'forged-1'));
    assert.equal(dead.find((d) => JSON.parse(d.value.toString()).eventId === 'forged-1')!.headers[DLQ_HEADERS.code], 'invalid_token');
    await sub.stop();
    const after = (await admin(`${url}/v1/ads/campaigns/cpc-hi/delivery`, 'GET')).body;
    assert.deepEqual([after.spent, after.clicks], [before.spent, before.clicks]);

    const cpmBefore = (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery`, 'GET')).body;
    const conv = { token: cpm.token, type: 'conversion', eventId: 'conv-1' };
    assert.equal((await postJson(`${url}/v1/ads/events`, conv)).status, 202);
    assert.equal((await postJson(`${url}/v1/ads/events`, conv)).status, 202); // replay
    const d = await eventually(async () => {
      const x = (await admin(`${url}/v1/ads/campaigns/cpm-mid/delivery`, 'GET')).body;
      return x.conversions === 1 && x;
    });
    assert.equal(d.hours[new Date().getUTCHours()].conversions, 1);
    assert.deepEqual([d.spent, d.reserved, d.costPerConversion === null], [cpmBefore.spent, cpmBefore.reserved, d.spent === 0]);
  });

  it('never lets 120 concurrent fills pass a daily budget of 10 wins; the campaign then stops serving', async () => {
    // alone on its surface: price = reserve (1 per mille = 1000 micros), budget 0.01 = 10 wins
    await admin(`${url}/v1/ads/campaigns`, 'POST', campaign('tight', { bid: 5, dailyBudget: 0.01, targeting: { surfaces: ['tight'] } }));
    await creative('tight', 'tight-a', 5);
    await indexed('tight-a');
    const rs = await Promise.all(Array.from({ length: 120 }, (_, i) => postJson(`${url}/v1/ads/fill`, { userId: `t${i}`, surface: 'tight', positions: [0] })));
    assert.ok(rs.every((r) => r.status === 200));
    const wins = rs.filter((r) => r.body.ads.length === 1);
    assert.equal(wins.length, 10);
    const d = (await admin(`${url}/v1/ads/campaigns/tight/delivery`, 'GET')).body;
    assert.ok(Math.abs(d.reserved + d.spent - 0.01) < 1e-9);
    assert.equal((await postJson(`${url}/v1/ads/fill`, { userId: 'late', surface: 'tight', positions: [0] })).body.ads.length, 0);
  });

  it('holds a frequency cap of 2 per user per day under 40 concurrent fills', async () => {
    await admin(`${url}/v1/ads/campaigns`, 'POST', campaign('capped', { frequencyCap: 2, targeting: { surfaces: ['cap'] } }));
    await creative('capped', 'capped-a', 7);
    await indexed('capped-a');
    const rs = await Promise.all(Array.from({ length: 40 }, () => postJson(`${url}/v1/ads/fill`, { userId: 'u3', surface: 'cap', positions: [0] })));
    assert.equal(rs.filter((r) => r.body.ads.length === 1).length, 2);
    assert.equal((await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'cap', positions: [0] })).body.ads.length, 1, 'another user still gets it');
  });

  it('a paused campaign does not serve; invalid fills are 422; a bad token on ads.events is dead-lettered', async () => {
    await admin(`${url}/v1/ads/campaigns/cpm-lo/pause`, 'POST');
    const r = await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'feed', positions: [0, 1, 2, 3] });
    assert.ok(!r.body.ads.some((a: any) => a.campaignId === 'cpm-lo'));
    const bad = await postJson(`${url}/v1/ads/fill`, { userId: 'u1', surface: 'feed', positions: [1, 1] });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.code, 'duplicate_positions');

    const dead: BusRecord[] = [];
    const sub = await env.infra.bus.subscribe({ groupId: 'ads-dlq-watch', topics: ['ads.events.dlq'], fromBeginning: true, handler: async (x) => void dead.push(x) });
    await publisher.publish(TOPICS.adsEvents, [{ eventId: 'bad-tok', key: 'a', adId: 'a', campaignId: 'c', type: 'click', token: 'not-a-token', timestamp: Date.now(), schemaVersion: 1 }]);
    await eventually(async () => dead.length === 1);
    assert.equal(dead[0].headers[DLQ_HEADERS.code], 'invalid_token');
    await sub.stop();
    const docs = await getJson(`${url}/docs-json`);
    assert.ok(docs.body.paths['/v1/ads/fill'] && docs.body.paths['/v1/ads/campaigns/{id}/delivery']);
  });
});
