import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ConfigResourceTypes, Kafka, logLevel, Partitioners } from 'kafkajs';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { eventually, getJson, postJson, startTestSuite } from '@recsys/testing/suite';
import { DrillRedis, freePort } from './drill-support';

/**
 * Drill (issue 11): Redis restarted under load, on real Kafka, with a redis-server of the drill's
 * own (AOF, appendfsync everysec, as ops/ runs it).
 * 1. Restart with the AOF: the behavior service's state is intact (nothing lost, nothing doubled,
 *    no rebuild); during the outage reads answer 503 problem+json within the bound, never 500 or
 *    a hang; the consumer retries and dead-letters nothing.
 * 2. Restart with the AOF deleted: the service notices the lost generation marker, replays
 *    catalog.items then user.behaviors from the earliest offset, and ends with state equal to a
 *    clean run's (a second behavior service on a fresh store, same topics).
 *
 * Run alone: npm run drill:redis
 */
const DIM = 16;
const N_ITEMS = 100;
const USERS = 40;
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.round((Math.sin(i * 0.61 + j) * 3 + Math.cos(i * 0.13 * (j + 1))) * 1e4) / 1e4);

describe('drill: Redis restart under load (real Kafka, dedicated Redis)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('drill-redis')}.`;
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'drill-producer', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let redis: DrillRedis;
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let clean: Awaited<ReturnType<typeof startTestSuite>> | undefined;
  const env = {
    APPS: 'behavior',
    KAFKA_BROKERS: real.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    DATABASE_URL: real.databaseUrl,
    STATE_PREFIX: prefix,
    EMBEDDING_DIM: String(DIM),
    BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '10000',
    STATE_GENERATION_CHECK_MS: '300',
    STATE_READ_TIMEOUT_MS: '500',
  };
  const produced = new Map<string, number>();
  let next = 0;

  beforeAll(async () => {
    redis = new DrillRedis(await freePort());
    await redis.start();
    suite = await startTestSuite({ ...env, REDIS_URL: redis.url });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await clean?.close();
    await suite?.close();
    await redis?.destroy();
  });

  const produceBehaviors = async (n: number) => {
    const messages = Array.from({ length: n }, () => {
      const k = next++;
      const user = `user-${k % USERS}`;
      produced.set(user, (produced.get(user) ?? 0) + 1);
      const e = {
        eventId: `b-${k}`,
        key: user,
        timestamp: 1_700_000_000_000 + k * 1000,
        schemaVersion: 1,
        userId: user,
        itemId: `item-${(k * 13) % N_ITEMS}`,
        type: 'click',
      };
      return { key: user, value: JSON.stringify(e) };
    });
    await producer.send({ topic: `${prefix}user.behaviors`, messages });
  };
  /** Background load: `rounds` sends of `size` behaviours, `gapMs` apart. */
  const load = (rounds: number, size: number, gapMs: number) =>
    (async () => {
      for (let r = 0; r < rounds; r++) {
        await produceBehaviors(size);
        await new Promise((res) => setTimeout(res, gapMs));
      }
    })();

  const behaviorUrl = () => suite.url('behavior');
  const totalsMatch = async (url: string) => {
    const r = await Promise.all([...produced.keys()].map((u) => getJson(`${url}/v1/users/${u}/history?limit=1`)));
    return r.every((x, i) => x.status === 200 && x.body.total === produced.get([...produced.keys()][i]));
  };
  const caughtUp = async (url: string) => {
    const h = await getJson(`${url}/health/ready`);
    return h.status === 200 && h.body.consumers.partitions > 0 && h.body.consumers.lag === 0 && (await totalsMatch(url));
  };
  /** What a client can see of every user: full history, embedding, SDIM interest for two items. */
  const snapshot = async (url: string) => {
    const out: Record<string, unknown> = {};
    for (const u of [...produced.keys()].sort()) {
      const h = await getJson(`${url}/v1/users/${u}/history?limit=10000`);
      const e = await getJson(`${url}/v1/users/${u}/embedding`);
      const i = await postJson(`${url}/v1/users/${u}/interest`, { itemIds: ['item-1', 'item-2'] });
      out[u] = { history: h.body, embedding: e.body, interest: i.body };
    }
    return out;
  };
  const marker = async (url: string) => {
    const r = new Redis(url, { lazyConnect: true });
    await r.connect();
    const v = await r.get(`${prefix}generation:behavior`);
    r.disconnect();
    return v;
  };

  it('keeps the state through a restart with the AOF, and rebuilds it from Kafka, equal to a clean run, without it', async () => {
    // Topic settings that make the rebuild possible.
    const admin = kafka.admin();
    await admin.connect();
    const cfg = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: `${prefix}catalog.items` },
        { type: ConfigResourceTypes.TOPIC, name: `${prefix}user.behaviors` },
      ],
    });
    await admin.disconnect();
    const value = (topic: string, name: string) => cfg.resources.find((r) => r.resourceName === `${prefix}${topic}`)?.configEntries.find((c) => c.configName === name)?.configValue;
    assert.equal(value('catalog.items', 'cleanup.policy'), 'compact');
    assert.equal(value('user.behaviors', 'retention.ms'), '-1');

    await producer.send({
      topic: `${prefix}catalog.items`,
      messages: Array.from({ length: N_ITEMS }, (_, i) => ({
        key: `item-${i}`,
        value: JSON.stringify({
          eventId: `item-${i}`,
          key: `item-${i}`,
          timestamp: 1_600_000_000_000,
          schemaVersion: 1,
          op: 'upsert',
          namespace: 'items',
          itemId: `item-${i}`,
          embedding: vec(i),
        }),
      })),
    });
    await produceBehaviors(200);
    await eventually(() => caughtUp(behaviorUrl()), 60_000, 100);
    const gen1 = await marker(redis.url);
    assert.ok(gen1);

    // --- 1. restart with the AOF, under load ---
    const phase1 = load(30, 50, 40);
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop();
    const t0 = Date.now();
    const during = await getJson(`${behaviorUrl()}/v1/users/user-1/history?limit=5`);
    const tookMs = Date.now() - t0;
    assert.equal(during.status, 503);
    assert.equal(during.body.code, 'state_unavailable');
    assert.match(String(during.type), /problem\+json/);
    assert.ok(tookMs < 2000, `answered in ${tookMs} ms`);
    const interest = await postJson(`${behaviorUrl()}/v1/users/user-1/interest`, { itemIds: ['item-1'] });
    assert.equal(interest.status, 503);
    await eventually(async () => (await getJson(`${behaviorUrl()}/health/ready`)).status === 503, 5000, 50);
    await new Promise((r) => setTimeout(r, 500));
    await redis.start();
    await phase1;
    await eventually(() => caughtUp(behaviorUrl()), 60_000, 100);
    assert.equal(await marker(redis.url), gen1, 'no rebuild after a restart with the AOF');
    const afterRestart = await snapshot(behaviorUrl());
    for (const [u, s] of Object.entries(afterRestart)) {
      const ids = (s as { history: { items: { eventId: string }[] } }).history.items.map((x) => x.eventId);
      assert.equal(ids.length, produced.get(u), `${u}: nothing lost`);
      assert.equal(new Set(ids).size, ids.length, `${u}: nothing doubled`);
    }

    // --- 2. restart with the AOF deleted, under load ---
    const phase2 = load(20, 50, 40);
    await new Promise((r) => setTimeout(r, 200));
    await redis.stop();
    redis.deleteAof();
    await redis.start();
    const emptiedAt = Date.now();
    await phase2;
    await eventually(
      async () => {
        const g = await marker(redis.url);
        return g !== null && g !== gen1 && (await caughtUp(behaviorUrl()));
      },
      90_000,
      200,
    );
    const rebuildMs = Date.now() - emptiedAt;
    const rebuilt = await snapshot(behaviorUrl());

    // A clean run: another behavior service on a fresh store (the shared Redis, its own prefix) replays the same topics.
    clean = await startTestSuite({ ...env, REDIS_URL: real.redisUrl, STATE_PREFIX: `${prefix}clean.` });
    await eventually(() => caughtUp(clean!.url('behavior')), 90_000, 200);
    const reference = await snapshot(clean.url('behavior'));
    const users = Object.keys(reference);
    assert.equal(users.length, USERS);
    for (const u of users) {
      const a = rebuilt[u] as { history: unknown; embedding: { vector: number[]; count: number; newestTs: number }; interest: unknown };
      const b = reference[u] as typeof a;
      assert.deepEqual(a.history, b.history, `${u}: history`);
      assert.deepEqual(a.interest, b.interest, `${u}: SDIM interest`);
      assert.equal(a.embedding.count, b.embedding.count);
      assert.equal(a.embedding.newestTs, b.embedding.newestTs);
      a.embedding.vector.forEach((x, k) => assert.ok(Math.abs(x - b.embedding.vector[k]) <= 1e-5 * Math.max(1, Math.abs(x)), `${u}: embedding[${k}]`));
    }
    console.log(
      `drill:redis figures ${JSON.stringify({ behaviours: next, users: USERS, items: N_ITEMS, outageReadMs: tookMs, rebuildToCaughtUpMs: rebuildMs, generations: [gen1, await marker(redis.url)] })}`,
    );
    // Nothing was dead-lettered along the way (no unknown_item after the rebuild, no duplicates).
    const metrics = (await getJson(`${behaviorUrl()}/metrics`)).body as string;
    assert.doesNotMatch(metrics, /consumer_dead_letters_total\{[^}]*\} [1-9]/);
  });
});
