import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { KafkaEventBus } from '@recsys/infra/event-bus/event-bus.kafka.adapter';
import { PrefixedEventBus } from '@recsys/infra/event-bus/event-bus.prefixed';
import type { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { TOPICS } from '@recsys/contracts';
import { StateGeneration } from '@recsys/messaging';
import type { AppContext } from '@recsys/platform';
import { startBehaviorConsumer } from '../../apps/behavior/src/behavior.consumers';
import { BehaviorRepository } from '../../apps/behavior/src/domain/behavior.repository';
import type { Catalog, StreamEvent } from './data';
import { redisCpuSeconds, upsertCatalog } from './ingest-direct';

/**
 * Ingest through the behavior app's Kafka consumer (apps/behavior/src/behavior.consumers.ts):
 * the whole stream is produced to user.behaviors (keyed by user) first, then one consumer
 * (startBehaviorConsumer, batch mode) drains it into Redis through BehaviorRepository. The rate is
 * taken between the first and the last applied event, so the group join is not counted.
 */
export interface KafkaIngestResult {
  events: number;
  partitions: number;
  perSecond: number;
  produceSeconds: number;
  consumeSeconds: number;
  nodeCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  /** What the consumer handed the repository: calls, mean events and distinct users per call. */
  batches: number;
  eventsPerBatch: number;
  distinctUsersPerBatch: number;
}

export async function ingestThroughKafka(
  store: RedisStateStore,
  brokers: string[],
  cat: Catalog,
  stream: StreamEvent[],
  opts: { prefix: string; partitions: number; log: (m: string) => void },
): Promise<KafkaIngestResult> {
  const bus = new PrefixedEventBus(new KafkaEventBus({ brokers, clientId: 'bench-sdim', defaultPartitions: opts.partitions }), opts.prefix);
  const repo = new BehaviorRepository(store, { sdim: { seed: 20220517, m: 48, tau: 3, d: 64 } });
  try {
    await upsertCatalog(repo, cat);
    // Counts the batches the consumer applies (how many users each touches decides the cost).
    const seen = { batches: 0, events: 0, users: 0 };
    const apply = repo.applyBehaviors.bind(repo);
    repo.applyBehaviors = (events) => {
      seen.batches++;
      seen.events += events.length;
      seen.users += new Set(events.map((e) => e.userId)).size;
      return apply(events);
    };
    await bus.ensureTopics([
      { topic: TOPICS.userBehaviors, partitions: opts.partitions },
      { topic: `${TOPICS.userBehaviors}.dlq`, partitions: 1 },
    ]);
    const p0 = Date.now();
    for (let i = 0; i < stream.length; i += 5000) {
      await bus.produce(
        TOPICS.userBehaviors,
        stream.slice(i, i + 5000).map((e) => ({
          key: e.userId,
          value: JSON.stringify({ eventId: e.eventId, key: e.userId, timestamp: e.ts, schemaVersion: 1, userId: e.userId, itemId: e.itemId, type: e.type }),
        })),
      );
    }
    const produceSeconds = (Date.now() - p0) / 1000;
    opts.log(`kafka: produced ${stream.length} behaviours in ${produceSeconds.toFixed(1)} s`);

    // The consumer only uses the bus, the state store (DLQ ledger), the metrics registry and the subscription list of its context.
    const metrics = new Registry();
    const ctx = { infra: { bus, state: store }, metrics, subscriptions: [] } as unknown as AppContext;
    const applied = async () => {
      const m = (await metrics.getSingleMetric('events_applied_total')?.get())?.values ?? [];
      return m.reduce((s, v) => s + v.value, 0);
    };
    const redisCpu = () => redisCpuSeconds(store);
    // The consumer writes under a state generation (as the behavior app does); a fresh one per run.
    const generation = new StateGeneration(store, 'behavior');
    const { generation: gen } = await generation.ensure();
    await startBehaviorConsumer(ctx, repo, 0, { generation, groupId: `bench-behavior.${gen}` });
    let first: { t: number; n: number; cpu: NodeJS.CpuUsage; redis: number } | undefined;
    let last = { t: Date.now(), n: 0 };
    const deadline = Date.now() + 600_000;
    for (;;) {
      const n = await applied();
      const t = Date.now();
      if (n > 0 && !first) first = { t, n, cpu: process.cpuUsage(), redis: await redisCpu() };
      last = { t, n };
      if (n >= stream.length || t > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpu = process.cpuUsage(first!.cpu);
    const redis = (await redisCpu()) - first!.redis;
    for (const s of ctx.subscriptions) await s.stop();
    const events = last.n - first!.n;
    const seconds = (last.t - first!.t) / 1000;
    if (last.n < stream.length) throw new Error(`kafka ingest: only ${last.n} of ${stream.length} applied before the deadline`);
    return {
      events: stream.length,
      partitions: opts.partitions,
      perSecond: Math.round(events / seconds),
      produceSeconds: Number(produceSeconds.toFixed(2)),
      consumeSeconds: Number(seconds.toFixed(2)),
      nodeCpuUsPerEvent: Number(((cpu.user + cpu.system) / events).toFixed(1)),
      redisCpuUsPerEvent: Number(((redis * 1e6) / events).toFixed(1)),
      batches: seen.batches,
      eventsPerBatch: Math.round(seen.events / seen.batches),
      distinctUsersPerBatch: Math.round(seen.users / seen.batches),
    };
  } finally {
    await bus.close();
  }
}

/** Deletes the topics of this run (they share its unique prefix). */
export async function deleteTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'bench-ingest-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}
