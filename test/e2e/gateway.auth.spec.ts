import assert from 'node:assert/strict';
import { TOPICS } from '@recsys/contracts';
import { eventually, getJson } from '../support/suite';
import { startGatewayWithFakes } from './gateway.harness';

const ADMIN = 'admin-token-0123456789';
const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/**
 * API keys (scopes, hashing, revocation, rate limits), the event collector (validation against
 * libs/contracts, unknown fields, batches, idempotency by eventId) and the AsyncAPI document.
 */
describe('gateway API keys and event collector (embedded)', () => {
  let gw: Awaited<ReturnType<typeof startGatewayWithFakes>>;
  const received: Record<string, any[]> = { 'feed.feedback': [], 'user.behaviors': [], 'ads.events': [] };
  const admin = (path: string, init: RequestInit = {}) =>
    getJson(`${gw.url}/v1/admin/api-keys${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  const createKey = async (body: object) => {
    const r = await admin('', { method: 'POST', body: JSON.stringify(body) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { keyId: string; apiKey: string; scopes: string[] };
  };
  let writer: string;
  let reader: string;
  const subs: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    gw = await startGatewayWithFakes({ GATEWAY_API_KEYS: 'required', GATEWAY_KEY_CACHE_MS: '0' }, { ADMIN_TOKEN: ADMIN });
    gw.fakes.items = [
      { itemId: 'a1', group: 'g0' },
      { itemId: 'a2', group: 'g1' },
    ];
    await gw.seedCatalog(gw.fakes.items);
    for (const topic of Object.keys(received)) {
      const sub = await gw.suite.infra.bus.subscribe({
        groupId: `test-${topic}-${Date.now()}`,
        topics: [topic],
        fromBeginning: true,
        handler: async (r) => void received[topic]!.push(JSON.parse(r.value.toString('utf8'))),
      });
      subs.push(sub);
    }
    writer = (await createKey({ name: 'frontend events', scopes: ['events:write'] })).apiKey;
    reader = (await createKey({ name: 'frontend feed', scopes: ['feed:read'] })).apiKey;
  });
  afterAll(async () => {
    for (const s of subs) await s.stop();
    await gw?.close();
  });

  it('guards the key admin API with ADMIN_TOKEN and never shows a secret after creation', async () => {
    const none = await getJson(`${gw.url}/v1/admin/api-keys`);
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'unauthorized');
    const wrong = await getJson(`${gw.url}/v1/admin/api-keys`, { headers: { authorization: 'Bearer not-the-admin-token' } });
    assert.equal(wrong.body.code, 'invalid_token');
    const list = await admin('');
    assert.equal(list.status, 200);
    assert.ok(list.body.length >= 2);
    assert.ok(!JSON.stringify(list.body).includes(writer.split('_')[2]!), 'no secret in the listing');
    const bad = await admin('', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: ['root'] }) });
    assert.equal(bad.status, 422);
    // Stored hashed: the table holds a sha256 digest, not the secret.
    const rows = await gw.suite.infra.sql.query<{ secret_sha256: string }>('SELECT secret_sha256 FROM gateway_api_keys');
    assert.ok(rows.rows.every((r) => /^[a-f0-9]{64}$/.test(r.secret_sha256) && !writer.includes(r.secret_sha256)));
    // An admin-scoped API key may manage keys too; a feed key may not.
    const adminKey = (await createKey({ name: 'ops', scopes: ['admin'] })).apiKey;
    assert.equal((await getJson(`${gw.url}/v1/admin/api-keys`, { headers: { 'x-api-key': adminKey } })).status, 200);
    const forbidden = await getJson(`${gw.url}/v1/admin/api-keys`, { headers: { 'x-api-key': reader } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'insufficient_scope');
  });

  it('answers 401 without a key or with a bad one, 403 without the scope, 200 with it (problem+json)', async () => {
    const feed = (headers: Record<string, string>) => getJson(`${gw.url}/v1/feed?userId=u1&limit=2`, { headers });
    const none = await feed({});
    assert.equal(none.status, 401);
    assert.match(none.type ?? '', /problem\+json/);
    assert.equal(none.body.code, 'api_key_required');
    assert.equal((await feed({ 'x-api-key': 'rsk_aaaaaaaaaaaa_' + 'x'.repeat(43) })).body.code, 'invalid_api_key');
    assert.equal((await feed({ 'x-api-key': writer.slice(0, -1) + (writer.endsWith('A') ? 'B' : 'A') })).body.code, 'invalid_api_key');
    const scope = await feed({ 'x-api-key': writer });
    assert.equal(scope.status, 403);
    assert.equal(scope.body.code, 'insufficient_scope');
    assert.equal((await feed({ 'x-api-key': reader })).status, 200);
    assert.equal((await feed({ authorization: `Bearer ${reader}` })).status, 200);
    const ev = await getJson(`${gw.url}/v1/events`, json({ topic: 'feed.feedback', eventId: 'e-scope', userId: 'u1', itemId: 'a1', type: 'click' }, { 'x-api-key': reader }));
    assert.equal(ev.status, 403);
  });

  it('stops a revoked key', async () => {
    const k = await createKey({ name: 'short-lived', scopes: ['feed:read'] });
    assert.equal((await getJson(`${gw.url}/v1/feed?userId=u1&limit=1`, { headers: { 'x-api-key': k.apiKey } })).status, 200);
    const revoked = await admin(`/${k.keyId}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revokedAt);
    const after = await getJson(`${gw.url}/v1/feed?userId=u1&limit=1`, { headers: { 'x-api-key': k.apiKey } });
    assert.equal(after.status, 401);
    assert.equal((await admin('/nope00000000', { method: 'DELETE' })).status, 404);
  });

  it('rate-limits per key with a token bucket: 429 with Retry-After once the burst is spent; other keys unaffected', async () => {
    const slow = await createKey({ name: 'limited', scopes: ['feed:read'], ratePerSec: 0.01, burst: 3 });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof getJson>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await getJson(`${gw.url}/v1/feed?userId=u2&limit=1`, { headers: { 'x-api-key': slow.apiKey } });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(last!.body.code, 'rate_limited');
    assert.match(last!.type ?? '', /problem\+json/);
    const res = await fetch(`${gw.url}/v1/feed?userId=u2&limit=1`, { headers: { 'x-api-key': slow.apiKey } });
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.equal((await getJson(`${gw.url}/v1/feed?userId=u2&limit=1`, { headers: { 'x-api-key': reader } })).status, 200);
  });

  it('collects one event (202), fills the envelope, writes it to its topic once however often it is sent', async () => {
    const ev = { topic: 'feed.feedback', eventId: 'fb-once', userId: 'u3', itemId: 'a1', type: 'click', requestId: 'req-1' };
    const first = await getJson(`${gw.url}/v1/events`, json(ev, { 'x-api-key': writer }));
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual([first.body.accepted, first.body.duplicates], [1, 0]);
    const again = await getJson(`${gw.url}/v1/events`, json(ev, { 'x-api-key': writer }));
    assert.equal(again.status, 202);
    assert.deepEqual([again.body.accepted, again.body.duplicates, again.body.results[0].status], [0, 1, 'duplicate']);
    const got = await eventually(async () => received['feed.feedback']!.find((e) => e.eventId === 'fb-once'));
    assert.equal(got.key, 'u3');
    assert.equal(got.schemaVersion, 1);
    assert.ok(got.timestamp > 0);
    // A later event proves the log was read past both posts: still one copy.
    await getJson(`${gw.url}/v1/events`, json({ ...ev, eventId: 'fb-later' }, { 'x-api-key': writer }));
    await eventually(async () => received['feed.feedback']!.some((e) => e.eventId === 'fb-later'));
    assert.equal(received['feed.feedback']!.filter((e) => e.eventId === 'fb-once').length, 1);
  });

  it('collects a batch of 500 across topics; 501 is refused', async () => {
    const events = Array.from({ length: 500 }, (_, i) =>
      i % 2 === 0
        ? { topic: 'user.behaviors', eventId: `bh-${i}`, userId: `u${i % 7}`, itemId: 'a2', type: 'view' }
        : { topic: 'ads.events', eventId: `ad-${i}`, adId: 'ad-9', campaignId: 'c-9', type: 'impression', userId: 'u1', token: 'tok' },
    );
    const r = await getJson(`${gw.url}/v1/events`, json({ events }, { 'x-api-key': writer }));
    assert.equal(r.status, 202, JSON.stringify(r.body).slice(0, 500));
    assert.equal(r.body.accepted, 500);
    await eventually(
      async () => received['user.behaviors']!.filter((e) => e.eventId.startsWith('bh-')).length === 250 && received['ads.events']!.filter((e) => e.eventId.startsWith('ad-')).length === 250,
    );
    const tooMany = await getJson(`${gw.url}/v1/events`, json({ events: [...events, events[0]] }, { 'x-api-key': writer }));
    assert.equal(tooMany.status, 422);
  });

  it('rejects unknown fields, contract violations and client-side campaign changes, listing every issue by index; nothing of a bad batch is written', async () => {
    const r = await getJson(
      `${gw.url}/v1/events`,
      json(
        {
          events: [
            { topic: 'feed.feedback', eventId: 'ok-in-bad-batch', userId: 'u1', itemId: 'a1', type: 'click' },
            { topic: 'feed.feedback', eventId: 'x1', userId: 'u1', itemId: 'a1', type: 'click', color: 'red' },
            { topic: 'user.behaviors', eventId: 'x2', userId: 'u1', itemId: 'a1', type: 'teleport' },
            { topic: 'ads.events', eventId: 'x3', adId: 'a', campaignId: 'c', type: 'campaign_pause' },
            { topic: 'feed.feedback', eventId: 'x4', userId: 'u1', key: 'someone-else', itemId: 'a1', type: 'click' },
          ],
        },
        { 'x-api-key': writer },
      ),
    );
    assert.equal(r.status, 422);
    assert.equal(r.body.code, 'validation_failed');
    const byIndex = (i: number) => r.body.errors.filter((e: any) => e.index === i).map((e: any) => e.path);
    assert.deepEqual(byIndex(0), []);
    assert.deepEqual(byIndex(1), ['color']);
    assert.deepEqual(byIndex(2), ['type']);
    assert.deepEqual(byIndex(3), ['type']);
    assert.deepEqual(byIndex(4), ['key']);
    const unknownTopic = await getJson(`${gw.url}/v1/events`, json({ topic: 'catalog.items', eventId: 'c1' }, { 'x-api-key': writer }));
    assert.equal(unknownTopic.status, 422);
    // The valid event of the rejected batch can still be sent later (it was never claimed).
    const later = await getJson(`${gw.url}/v1/events`, json({ topic: 'feed.feedback', eventId: 'ok-in-bad-batch', userId: 'u1', itemId: 'a1', type: 'click' }, { 'x-api-key': writer }));
    assert.equal(later.body.accepted, 1);
  });

  it('serves an AsyncAPI 3 document generated from the contract schemas at /docs/events', async () => {
    const r = await getJson(`${gw.url}/docs/events`);
    assert.equal(r.status, 200);
    assert.equal(r.body.asyncapi, '3.0.0');
    for (const t of Object.values(TOPICS)) {
      const id = t.replace(/\./g, '_');
      assert.equal(r.body.channels[id].address, t);
      assert.equal(r.body.operations[`send_${id}`].action, 'send');
    }
    const impressions = r.body.components.schemas.feed_impressions;
    assert.ok(impressions.properties.recordVersion && impressions.properties.candidates && impressions.properties.degraded);
    assert.deepEqual(r.body.components.schemas.feed_feedback.properties.type.enum, ['click', 'hide', 'dwell', 'conversion', 'like', 'share']);
    // And the OpenAPI lists the gateway's routes with the API key scheme.
    const doc = await getJson(`${gw.url}/docs-json`);
    assert.ok(doc.body.paths['/v1/feed'].get && doc.body.paths['/v1/events'].post && doc.body.paths['/v1/admin/api-keys'].post);
  });
});
