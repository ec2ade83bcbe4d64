import assert from 'node:assert/strict';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import type { EventBus, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import { PrefixedEventBus } from '@recsys/infra/event-bus/event-bus.prefixed';
import { migrate } from '@recsys/infra/sql/migrate';
import { PgSqlDatabase } from '@recsys/infra/sql/sql.pg.adapter';
import { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { DLQ_HEADERS, SqlIdempotencyLedger, startEventConsumer, StateStoreIdempotencyLedger, type ConsumerHooks } from '@recsys/messaging';
import { realInfra, uniqueName } from '../support/infra';
import { eventually } from '../support/suite';

/**
 * The platform's delivery guarantees end to end on real servers: events produced with a plain
 * kafkajs producer, effects in PostgreSQL (ledger in the same transaction) and in Redis (ledger
 * and effect in one MULTI), a consumer restarted mid-stream, then the whole topic replayed.
 */
describe('platform on real Kafka, PostgreSQL and Redis (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('pf')}.`;
  const topic = 'user.behaviors';
  const table = `clicks_${prefix.replace(/[^a-z0-9]/gi, '_')}`.toLowerCase();
  const kafka = new Kafka({ brokers: real.kafkaBrokers, clientId: 'platform-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let bus: EventBus;
  let sql: PgSqlDatabase;
  let state: RedisStateStore;
  const N = 400;
  const users = 8;

  const behavior = (i: number) => {
    const userId = `u${i % users}`;
    return { key: userId, value: JSON.stringify({ eventId: `ev-${i}`, key: userId, timestamp: 1_700_000_000_000 + i, schemaVersion: 1, userId, itemId: `i${i}`, type: 'click' }) };
  };

  beforeAll(async () => {
    bus = new PrefixedEventBus(new KafkaEventBus({ brokers: real.kafkaBrokers, clientId: 'platform-test' }), prefix);
    sql = new PgSqlDatabase(real.databaseUrl);
    state = new RedisStateStore(real.redisUrl, { keyPrefix: prefix });
    await migrate(sql);
    await sql.exec(`CREATE TABLE ${table} (user_id text PRIMARY KEY, clicks int NOT NULL)`);
    await producer.connect();
    await bus.ensureTopics([
      { topic, partitions: 4 },
      { topic: `${topic}.dlq`, partitions: 1 },
    ]);
  });
  afterAll(async () => {
    await producer.disconnect();
    await sql.exec(`DROP TABLE IF EXISTS ${table}`);
    await bus.close();
    await sql.close();
    await state.close();
  });

  const sqlLedger = () => new SqlIdempotencyLedger(sql);
  const redisLedger = () => new StateStoreIdempotencyLedger(state);
  let applied = 0;

  async function consume(group: string, startOffsets?: Record<number, string>, hooks?: ConsumerHooks): Promise<Subscription> {
    const pg = sqlLedger();
    const rl = redisLedger();
    return startEventConsumer({
      bus,
      topic,
      groupId: group,
      ledger: pg,
      handlerMarksLedger: true,
      startOffsets: startOffsets ? { [topic]: startOffsets } : undefined,
      hooks,
      handle: async (e, { consumer }) => {
        await pg.applyOnce(consumer, e.eventId, async (tx) => {
          await tx.query(`INSERT INTO ${table} (user_id, clicks) VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE SET clicks = ${table}.clicks + 1`, [e.userId]);
        });
        if (!(await rl.seen(consumer, e.eventId))) {
          await state.transaction().incrBy(`clicks:${e.userId}`, 1).set(StateStoreIdempotencyLedger.key(consumer, e.eventId), '1').exec();
        }
        applied++;
      },
    });
  }

  const totals = async () => {
    const pg = await sql.query<{ total: string }>(`SELECT COALESCE(SUM(clicks), 0)::text AS total FROM ${table}`);
    let redis = 0;
    for (let u = 0; u < users; u++) redis += Number((await state.get(`clicks:u${u}`))?.toString() ?? 0);
    return { pg: Number(pg.rows[0].total), redis };
  };

  it('applies every valid event once, dead-letters the invalid ones, survives a restart mid-stream', async () => {
    const messages = Array.from({ length: N }, (_, i) => behavior(i));
    messages.splice(100, 0, { key: 'u1', value: '{"eventId":"broken"' });
    messages.splice(250, 0, { key: 'u2', value: JSON.stringify({ eventId: 'x', key: 'u2', timestamp: 1, schemaVersion: 1, userId: 'u2', itemId: 'i', type: 'teleport' }) });
    await producer.send({ topic: `${prefix}${topic}`, messages });

    let sub = await consume(`${prefix}clicks`);
    await eventually(async () => applied >= 120, 60_000);
    await sub.stop(); // mid-stream: commits what was handled
    const mid = applied;
    assert.ok(mid < N, `stopped mid-stream (${mid} of ${N})`);
    sub = await consume(`${prefix}clicks`);
    await eventually(async () => (await totals()).pg === N, 60_000, 100);
    await sub.stop();
    assert.deepEqual(await totals(), { pg: N, redis: N });

    const dead: { code: string; reason: string; value: string }[] = [];
    const dlq = await bus.subscribe({
      groupId: 'dlq-reader',
      topics: [`${topic}.dlq`],
      fromBeginning: true,
      handler: async (r) => void dead.push({ code: r.headers[DLQ_HEADERS.code], reason: r.headers[DLQ_HEADERS.reason], value: r.value.toString() }),
    });
    await eventually(async () => dead.length >= 2, 30_000);
    await dlq.stop();
    assert.equal(dead.length, 2);
    assert.ok(dead.some((d) => d.value === '{"eventId":"broken"' && /not JSON/.test(d.reason)));
    assert.ok(dead.some((d) => /type/.test(d.reason)));
  });

  it('replaying the whole topic changes nothing', async () => {
    const end = await bus.endOffsets(topic);
    // The last offset of every non-empty partition: where the replay provably ends.
    const last = Object.entries(end)
      .filter(([, e]) => e !== '0')
      .map(([p, e]) => [Number(p), String(BigInt(e) - 1n)] as const);
    const done = new Map<number, string>();
    const seen = { duplicates: 0, deadLetters: 0 };
    const hooks: ConsumerHooks = {
      onProgress: (_g, _t, partition, lastOffset) => void done.set(partition, lastOffset),
      onDuplicate: () => void seen.duplicates++,
      onDeadLetter: () => void seen.deadLetters++,
      onDeadLetterSkipped: () => void seen.deadLetters++,
    };
    const before = applied;
    const sub = await consume(`${prefix}clicks`, Object.fromEntries(Object.keys(end).map((p) => [Number(p), '0'])), hooks);
    // Every record is redelivered to the handler path; wait until each partition's last offset is done.
    await eventually(async () => last.every(([p, o]) => done.get(p) === o), 60_000, 50);
    await sub.stop();
    assert.equal(seen.duplicates, N, 'every valid event was replayed and recognised by the ledger');
    assert.equal(seen.deadLetters, 2, 'the two invalid records were replayed too (and not applied)');
    assert.equal(applied, before, 'the ledger skipped every replayed event before the handler');
    assert.deepEqual(await totals(), { pg: N, redis: N });
  });
});
