import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { realInfra, uniqueName } from '@recsys/testing/infra';
import { eventually, getJson, postJson, startTestSuite } from '@recsys/testing/suite';
import { countBy, readDlq } from './drill-support';

/**
 * Drill (issue 11): poison vectors and other malformed records, produced with plain kafkajs among
 * valid ones, on real Kafka and Redis, into retrieval (native HNSW), behavior and ranking.
 * Every valid item ends up searchable, every bad record is in the DLQ exactly once per consumer
 * scope (also after a ranking replica restarts under a new group name), no partition is stuck,
 * and the same poison value over HTTP is a 422, not a 500.
 *
 * Run alone: npm run drill:poison
 */
const DIM = 16;
const N_ITEMS = 200;
const USERS = 10;
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.round((Math.sin(i * 0.61 + j) * 3 + Math.cos(i * 0.13 * (j + 1))) * 1e4) / 1e4);

describe('drill: poison messages (real Kafka and Redis)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('drill-poison')}.`;
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'drill-producer', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const env = {
    APPS: 'retrieval,behavior,ranking',
    KAFKA_BROKERS: real.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: real.redisUrl,
    DATABASE_URL: real.databaseUrl,
    STATE_PREFIX: prefix,
    EMBEDDING_DIM: String(DIM),
    NAMESPACE_DIMS: `items:${DIM},ads:${DIM}`,
    BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '10000',
    RANKING_MODEL_ISOLATION: 'inline',
    CONSUMER_STUCK_AFTER_MS: '5000',
  };
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let replica2: Awaited<ReturnType<typeof startTestSuite>> | undefined;

  beforeAll(async () => {
    suite = await startTestSuite({ ...env, RANKING_REPLICA_ID: 'drill-replica-pid1' });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await replica2?.close();
    await suite?.close();
  });

  const item = (i: number, over: Record<string, unknown> = {}) => ({
    eventId: `item-${i}-v1`,
    key: `item-${i}`,
    timestamp: 1_700_000_000_000 + i,
    schemaVersion: 1,
    op: 'upsert',
    namespace: 'items',
    itemId: `item-${i}`,
    embedding: vec(i),
    ...over,
  });
  const behavior = (n: number, over: Record<string, unknown> = {}) => {
    const user = `user-${n % USERS}`;
    return {
      eventId: `b-${n}`,
      key: user,
      timestamp: 1_700_000_100_000 + n,
      schemaVersion: 1,
      userId: user,
      itemId: `item-${(n * 7) % N_ITEMS}`,
      type: 'click',
      ...over,
    };
  };
  const rec = (key: string | null, value: unknown) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) });

  it('valid records all land, each bad one is dead-lettered exactly once per consumer scope, no partition is stuck', async () => {
    // Bad catalog records; each keyed like a real item so that they spread over the partitions.
    const badItems = [
      { name: 'beyond float32', r: rec('bad-1', item(1001, { key: 'bad-1', itemId: 'bad-1', embedding: [1e39, ...vec(1).slice(1)] })) },
      { name: 'beyond float32 (negative)', r: rec('bad-2', item(1002, { key: 'bad-2', itemId: 'bad-2', embedding: [-1e300, ...vec(2).slice(1)] })) },
      {
        name: 'overflows to Infinity',
        r: rec('bad-3', JSON.stringify(item(1003, { key: 'bad-3', itemId: 'bad-3' })).replace(/"embedding":\[[^\]]*\]/, `"embedding":[1e999${',0'.repeat(DIM - 1)}]`)),
      },
      { name: 'norm too large', r: rec('bad-4', item(1004, { key: 'bad-4', itemId: 'bad-4', embedding: Array(DIM).fill(300) })) },
      { name: 'wrong dimension', r: rec('bad-5', item(1005, { key: 'bad-5', itemId: 'bad-5', embedding: vec(5).slice(0, 8) })) },
      { name: 'record key is not the item id', r: rec('item-3', item(1006, { key: 'bad-6', itemId: 'bad-6' })) },
      { name: 'not JSON', r: rec('bad-7', '{"eventId": "bad-7", "embedding": [1, 2') },
      { name: 'undeclared namespace', r: rec('bad-8', item(1008, { key: 'bad-8', itemId: 'bad-8', namespace: 'videos' })) },
    ];
    const topic = `${prefix}catalog.items`;
    for (let b = 0; b < 4; b++) {
      const valid = Array.from({ length: N_ITEMS / 4 }, (_, j) => b * (N_ITEMS / 4) + j).map((i) => rec(`item-${i}`, item(i)));
      const bad = badItems.slice(b * 2, b * 2 + 2).map((x) => x.r);
      // Bad records in the middle of the valid ones: they share fetch batches with them.
      await producer.send({ topic, messages: [...valid.slice(0, 25), ...bad, ...valid.slice(25)] });
    }
    const producedAt = Date.now();
    const retrievalUrl = suite.url('retrieval');
    const behaviorUrl = suite.url('behavior');
    const rankingUrl = suite.url('ranking');

    // Every valid item is indexed and every behaviour applied.
    await eventually(async () => ((await getJson(`${retrievalUrl}/v1/indexes`)).body.indexes?.find((n: { namespace: string }) => n.namespace === 'items')?.size ?? 0) === N_ITEMS, 60_000, 200).catch(
      async (e) => {
        console.log(JSON.stringify((await getJson(`${retrievalUrl}/v1/indexes`)).body), JSON.stringify((await getJson(`${retrievalUrl}/health/ready`)).body));
        throw e;
      },
    );
    // Behaviours once the catalog is in (each refers to a valid item).
    const badBehaviors = [rec('user-1', behavior(5001, { type: 'teleport' })), rec('user-2', behavior(5002, { userId: 'user-3', key: 'user-3' }))];
    const behaviors = Array.from({ length: 300 }, (_, n) => rec(`user-${n % USERS}`, behavior(n)));
    await producer.send({ topic: `${prefix}user.behaviors`, messages: [...behaviors.slice(0, 150), ...badBehaviors, ...behaviors.slice(150)] });

    await eventually(
      async () => {
        const totals = await Promise.all(Array.from({ length: USERS }, (_, u) => getJson(`${behaviorUrl}/v1/users/user-${u}/history?limit=1`)));
        return totals.every((t) => t.status === 200 && t.body.total === 300 / USERS);
      },
      60_000,
      200,
    ).catch(async (e) => {
      const totals = await Promise.all(Array.from({ length: USERS }, (_, u) => getJson(`${behaviorUrl}/v1/users/user-${u}/history?limit=1`)));
      console.log(JSON.stringify(totals.map((t) => [t.status, t.body.total])), JSON.stringify((await getJson(`${behaviorUrl}/health/ready`)).body));
      throw e;
    });
    await eventually(async () => (await getJson(`${rankingUrl}/v1/status`)).body.catalog?.caughtUp === true, 60_000, 200);

    // No partition stuck: every consumer at the log end, readiness green for retrieval and behavior.
    for (const url of [retrievalUrl, behaviorUrl, rankingUrl]) {
      await eventually(
        async () => {
          const h = await getJson(`${url}/health/ready`);
          return h.body.consumers.partitions > 0 && h.body.consumers.lag === 0 && h.body.consumers.stuck.length === 0;
        },
        30_000,
        200,
      );
    }
    assert.equal((await getJson(`${retrievalUrl}/health/ready`)).status, 200);
    assert.equal((await getJson(`${behaviorUrl}/health/ready`)).status, 200);

    const settledMs = Date.now() - producedAt;
    // Every valid item is searchable (its own vector finds it first).
    for (let i = 0; i < N_ITEMS; i++) {
      const r = await postJson(`${retrievalUrl}/v1/candidates`, { namespace: 'items', k: 1, vector: vec(i) });
      assert.equal(r.status, 200);
      assert.equal(r.body[0]?.itemId, `item-${i}`, `item-${i} searchable`);
    }

    // A second ranking replica, and the first one "restarted" under a new pid: new groups read
    // everything again; the DLQ scope is shared, so nothing is dead-lettered twice.
    replica2 = await startTestSuite({ ...env, APPS: 'ranking', RANKING_REPLICA_ID: 'drill-replica-pid2' });
    await eventually(async () => (await getJson(`${replica2!.url('ranking')}/v1/status`)).body.catalog?.caughtUp === true, 60_000, 200);
    await eventually(async () => (await getJson(`${replica2!.url('ranking')}/health/ready`)).body.consumers.lag === 0, 30_000, 200);

    const dlq = await readDlq(real.kafkaBrokers, `${topic}.dlq`);
    const perRecord = countBy(dlq, (d) => `${d.scope}|${d.sourcePartition}|${d.sourceOffset}`);
    assert.deepEqual(
      Object.entries(perRecord).filter(([, n]) => n > 1),
      [],
      'no bad record is dead-lettered twice by one scope',
    );
    const byScope = countBy(dlq, (d) => d.scope);
    // 7 bad records reach every consumer; the undeclared namespace only matters to retrieval.
    assert.deepEqual(byScope, { retrieval: 8, 'behavior-catalog': 7, 'ranking-items': 7 });
    const retrievalCodes = countBy(
      dlq.filter((d) => d.scope === 'retrieval'),
      (d) => d.code,
    );
    assert.deepEqual(retrievalCodes, { event_invalid: 5, dimension_mismatch: 1, key_mismatch: 1, unknown_namespace: 1 });
    assert.deepEqual(
      countBy(
        dlq.filter((d) => d.scope === 'ranking-items'),
        (d) => d.code,
      ),
      { event_invalid: 5, dimension_mismatch: 1, key_mismatch: 1 },
    );

    const behaviorDlq = await readDlq(real.kafkaBrokers, `${prefix}user.behaviors.dlq`);
    assert.deepEqual(behaviorDlq.map((d) => [d.scope, d.code, d.eventId]).sort(), [
      ['behavior', 'event_invalid', 'b-5001'],
      ['behavior', 'key_mismatch', 'b-5002'],
    ]);

    console.log(
      `drill:poison figures ${JSON.stringify({ validItems: N_ITEMS, badItems: badItems.length, behaviours: 300, badBehaviours: 2, dlqRecords: dlq.length + behaviorDlq.length, settledMs })}`,
    );
    // The dead letters show in the metrics, per group; lag is exported per partition.
    const metrics = (await getJson(`${retrievalUrl}/metrics`)).body as string;
    assert.match(metrics, /consumer_dead_letters_total\{group="retrieval",topic="[^"]*catalog\.items",code="unknown_namespace"[^}]*\} 1/);
    assert.match(metrics, /consumer_lag\{group="retrieval",topic="[^"]*catalog\.items",partition="0"[^}]*\} 0/);

    // The same poison value over HTTP is a client error, not a 500.
    const poison = await postJson(`${retrievalUrl}/v1/candidates`, { namespace: 'items', k: 3, vector: [1e39, ...vec(1).slice(1)] });
    assert.equal(poison.status, 422);
    assert.match(String(poison.type), /problem\+json/);
  });
});
