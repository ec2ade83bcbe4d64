import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS, validateEvent } from '@recsys/contracts';
import type { RunningSuite } from '@recsys/platform';
import { realInfra, uniqueName } from '../support/infra';
import { eventually, getJson } from '../support/suite';
import { startFeedSuite } from './feed.suite';

/**
 * The feed end to end on real Kafka, PostgreSQL and Redis: the whole suite seeded as `npm start`
 * seeds it (catalog and clicks through Kafka, the demo model registered in PostgreSQL), GET /v1/feed
 * ranked by it, the decision record read back from Kafka with kafkajs, the event collector writing
 * to Kafka (behaviour history updated from it), API keys stored in PostgreSQL and the per-key token
 * bucket running as a Lua script on Redis.
 */
describe('gateway on real Kafka, PostgreSQL and Redis (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('gw')}.`;
  let suite: RunningSuite;
  let gw: string;
  let url: (app: string) => string;
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'gateway-test', logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    const started = await startFeedSuite({
      KAFKA_BROKERS: real.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      REDIS_URL: real.redisUrl,
      DATABASE_URL: real.databaseUrl,
      STATE_PREFIX: prefix,
      RETRIEVAL_CONSUMER_GROUP: `${prefix}retrieval`,
      RANKING_REPLICA_ID: prefix.replace(/[^a-zA-Z0-9._-]/g, ''),
    });
    ({ suite, gw, url } = started);
    assert.deepEqual(suite.infra.kinds, { bus: 'kafka', state: 'redis', sql: 'pg', jobs: 'bullmq' });
  });
  afterAll(async () => suite?.close());

  it('serves a ranked feed and publishes its decision record to Kafka', async () => {
    const r = await getJson(`${gw}/v1/feed?userId=demo-user-2&limit=10`);
    assert.equal(r.status, 200);
    assert.equal(r.body.source, 'retrieval');
    assert.equal(r.body.versions.rankingModelVersion, 'demo-ml100k-adaptdhm-e2-s0');
    const consumer = kafka.consumer({ groupId: uniqueName('gw-test') });
    const seen: any[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}${TOPICS.feedImpressions}`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(validateEvent(TOPICS.feedImpressions, JSON.parse(message.value!.toString('utf8')))) });
    try {
      const rec = await eventually(async () => seen.find((e) => e.requestId === r.body.requestId), 60_000, 100);
      assert.equal(rec.recordVersion, 2);
      assert.equal(rec.key, 'demo-user-2');
      assert.deepEqual(rec.degraded, r.body.degraded);
      // The slate pool (GATEWAY_RECORD_CANDIDATES default 100) of the 500 ranked, best first.
      assert.equal(rec.candidates.length, 100);
      assert.ok(rec.candidates.every((c: any, i: number, all: any[]) => c.score !== undefined && (i === 0 || all[i - 1].score >= c.score)));
      assert.deepEqual(
        rec.items.map((i: any) => [i.itemId, i.position, i.propensity]),
        r.body.items.map((i: any) => [i.itemId, i.position, i.propensity]),
      );
    } finally {
      await consumer.disconnect();
    }
  });

  it('collects events into Kafka (the behaviour history follows) once per eventId', async () => {
    const first = await getJson(`${gw}/v1/feed?userId=demo-user-4&limit=5`);
    const item = first.body.items.find((i: any) => !i.isAd).itemId;
    const body = JSON.stringify({ topic: 'user.behaviors', eventId: `${prefix}click-1`, userId: 'demo-user-4', itemId: item, type: 'click' });
    const post = () => getJson(`${gw}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await post()).body.accepted, 1);
    assert.equal((await post()).body.duplicates, 1);
    const history = await eventually(
      async () => {
        const h = await getJson(`${url('behavior')}/v1/users/demo-user-4/history?limit=50`);
        return h.body.items?.some((i: any) => i.itemId === item) ? h.body.items : undefined;
      },
      60_000,
      200,
    );
    assert.equal(history.filter((i: any) => i.itemId === item && i.type === 'click' && i.eventId === `${prefix}click-1`).length <= 1, true);
    const next = await getJson(`${gw}/v1/feed?userId=demo-user-4&limit=5`);
    assert.ok(!next.body.items.some((i: any) => i.itemId === item));
  });

  it('keeps API keys hashed in PostgreSQL and rate-limits them with the Lua token bucket on Redis', async () => {
    const create = await getJson(`${gw}/v1/admin/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `${prefix}limited`, scopes: ['feed:read'], ratePerSec: 0.01, burst: 2 }),
    });
    assert.equal(create.status, 201, JSON.stringify(create.body));
    const key = create.body.apiKey as string;
    const row = await suite.infra.sql.query<{ secret_sha256: string; scopes: string[] }>('SELECT secret_sha256, scopes FROM gateway_api_keys WHERE key_id = $1', [create.body.keyId]);
    assert.match(row.rows[0]!.secret_sha256, /^[a-f0-9]{64}$/);
    assert.ok(!key.includes(row.rows[0]!.secret_sha256));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await getJson(`${gw}/v1/feed?userId=demo-user-6&limit=2`, { headers: { 'x-api-key': key } })).status);
    assert.deepEqual(statuses, [200, 200, 429, 429]);
    const bucket = await suite.infra.state.hgetall(`gw:rl:{${create.body.keyId}}`);
    assert.ok(bucket.t !== undefined && bucket.ts !== undefined, 'bucket state lives in Redis');
    const events = await getJson(`${gw}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ topic: 'feed.feedback', eventId: 'x', userId: 'u', itemId: 'i', type: 'click' }),
    });
    assert.equal(events.status, 403);
  });
});
