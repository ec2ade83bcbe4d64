import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ALL_APPS } from '../../apps/suite/apps';
import { DLQ_HEADERS } from '@recsys/messaging';
import { createInfra, createLogger, InfraContext, loadConfig, startSuite } from '@recsys/platform';
import { realInfra, uniqueName } from '../support/infra';
import { eventually, getJson, postJson } from '../support/suite';

const DIM = 16;
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.round((Math.sin(i * 0.61 + j) * 3 + Math.cos(i * 0.13 * (j + 1))) * 1e4) / 1e4);

/**
 * The retrieval service on real Kafka, Redis and PostgreSQL, fed by a plain kafkajs producer
 * (what an external catalog publisher does).
 */
describe('retrieval on real Kafka (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('rt')}.`;
  const config = loadConfig({
    KAFKA_BROKERS: real.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    DATABASE_URL: real.databaseUrl,
    REDIS_URL: real.redisUrl,
    STATE_PREFIX: prefix,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'retrieval-kafka-')),
    LOG_LEVEL: 'warn',
    APPS: 'retrieval',
    RETRIEVAL_PORT: '0',
    RETRIEVAL_METRIC: 'l2',
    NAMESPACE_DIMS: `items:${DIM}`,
  });
  const log = createLogger('warn');
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'test-producer', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let infra: InfraContext;
  let suite: Awaited<ReturnType<typeof startSuite>>;
  let url: string;
  const topic = `${prefix}catalog.items`;
  const event = (i: number, op: 'upsert' | 'delete' = 'upsert') => ({
    key: `item-${i}`,
    value: JSON.stringify({
      eventId: `${op}-${i}`,
      key: `item-${i}`,
      timestamp: Date.now(),
      schemaVersion: 1,
      op,
      namespace: 'items',
      itemId: `item-${i}`,
      ...(op === 'upsert' ? { embedding: vec(i), group: `g${i % 3}` } : {}),
    }),
  });

  beforeAll(async () => {
    infra = await createInfra(config, log);
    suite = await startSuite(config, ALL_APPS, log, infra);
    url = suite.apps[0].url;
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await suite?.close();
    await infra?.close();
  });

  it('10,000 upserts produced with kafkajs become searchable; deletes vanish; a malformed message lands in the DLQ', async () => {
    const started = Date.now();
    for (let i = 0; i < 10_000; i += 1000) {
      await producer.send({ topic, messages: Array.from({ length: 1000 }, (_, j) => event(i + j)) });
    }
    await producer.send({ topic, messages: [{ key: 'item-x', value: '{"op":"upsert","itemId":"item-x"}' }, event(5, 'delete'), event(6, 'delete')] });
    const info = await eventually(
      async () => {
        const i = (await getJson(`${url}/v1/indexes`)).body.indexes?.[0];
        return i && i.size === 9998 ? i : undefined;
      },
      120_000,
      100,
    );
    log.info({ seconds: (Date.now() - started) / 1000 }, '10k upserts indexed');
    assert.equal(info.kind, 'hnsw');
    const hit = await postJson(`${url}/v1/candidates`, { k: 10, vector: vec(1234) });
    assert.equal(hit.body[0].itemId, 'item-1234');
    const gone = await postJson(`${url}/v1/candidates`, { k: 50, vector: vec(5) });
    assert.ok(!gone.body.some((c: { itemId: string }) => c.itemId === 'item-5' || c.itemId === 'item-6'));

    const dlq = kafka.consumer({ groupId: `${prefix}dlq-reader` });
    await dlq.connect();
    await dlq.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    const dead: { headers: Record<string, string>; value: string }[] = [];
    await dlq.run({
      eachMessage: async ({ message }) => {
        dead.push({ value: message.value!.toString(), headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])) });
      },
    });
    await eventually(async () => dead.length >= 1, 30_000);
    await dlq.disconnect();
    assert.equal(dead[0].value, '{"op":"upsert","itemId":"item-x"}');
    assert.equal(dead[0].headers[DLQ_HEADERS.code], 'event_invalid');
  });

  it('after a restart, loads the snapshot and catches up from its Kafka offsets: nothing lost, nothing applied twice', async () => {
    await suite.close();
    await producer.send({ topic, messages: [event(20_000), event(20_001), event(9, 'delete')] });
    suite = await startSuite(config, ALL_APPS, log, infra);
    url = suite.apps[0].url;
    const info = await eventually(
      async () => {
        const i = (await getJson(`${url}/v1/indexes`)).body.indexes?.[0];
        return i && i.upserts + i.deletes >= 3 ? i : undefined;
      },
      60_000,
      100,
    );
    assert.equal(info.size, 9999);
    assert.equal(info.upserts, 2, 'only the records after the snapshot are applied');
    assert.equal(info.deletes, 1);
    const r = await postJson(`${url}/v1/candidates`, { k: 1, vector: vec(20_001) });
    assert.equal(r.body[0].itemId, 'item-20001');
  });
});
