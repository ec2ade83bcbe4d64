/**
 * One ingest workload of bench:sdim on its own, for profiling and A/B runs of the behavior writer
 * (the full bench spends ~5 minutes on quality first):
 *
 *   node dist/bench/sdim/ingest-run.js --workload zipf|manyUsers|fewUsers [--direct [--batch 3000]]
 *     [--redis URL] [--brokers HOST:PORT] [--partitions 4]
 *
 * Same catalog, streams and seeds as bench-sdim.ts (its Kafka streams), same measurement
 * (ingest-kafka.ts / ingest-direct.ts). `--direct` hands the repository the batches a consumer of
 * `--partitions` user-keyed partitions would see (the stream split by Kafka's key partitioner,
 * batches of `--batch` taken from the partitions in turn), without Kafka: the repository's own
 * CPU, with the same users per batch as through Kafka. Prints one JSON line with the result, the
 * git commit and the load average; keys and topics get a per-run prefix and are deleted at the end
 * (A/B series run it dozens of times: each Kafka run leaves tens of MB of topic otherwise).
 */
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { BehaviorRepository } from '../../apps/behavior/src/domain/behavior.repository';
import { partitionForKey } from '@recsys/infra/event-bus/event-bus.partitioner';
import { behaviourStream, catalog, zipfStream, type StreamEvent } from './data';
import { deleteAllKeys, ingestDirect } from './ingest-direct';
import { deleteTopics, ingestThroughKafka } from './ingest-kafka';
import { cli, int, runMain, UsageError } from '../common/cli';

const USAGE = 'usage: node dist/bench/sdim/ingest-run.js --workload zipf|manyUsers|fewUsers [--direct [--batch 3000]] [--redis URL] [--brokers HOST:PORT] [--partitions 4]';
const SDIM = { seed: 20220517, m: 48, tau: 3, d: 64 };

/** The bench's workloads (full size) with the seeds bench-sdim.ts gives their Kafka streams. */
const STREAMS: Record<string, (cat: ReturnType<typeof catalog>, prefix: string) => StreamEvent[]> = {
  fewUsers: (cat, p) => behaviourStream(12, cat, 20, 12_000, `${p}few`),
  manyUsers: (cat, p) => behaviourStream(14, cat, 5000, 20, `${p}many`),
  zipf: (cat, p) => zipfStream(16, cat, 100_000, 200_000, 1.1, `${p}zipf`),
};

/** The consumer's batches: up to `batch` events of one partition, the partitions in turn. */
function partitionBatches(stream: StreamEvent[], partitions: number, batch: number): { events: StreamEvent[]; sizes: number[] } {
  const parts: StreamEvent[][] = Array.from({ length: partitions }, () => []);
  for (const e of stream) parts[partitionForKey(e.userId, partitions)].push(e);
  const events: StreamEvent[] = [];
  const sizes: number[] = [];
  for (let at = 0; events.length < stream.length; at += batch) {
    for (const p of parts) {
      const chunk = p.slice(at, at + batch);
      if (!chunk.length) continue;
      events.push(...chunk);
      sizes.push(chunk.length);
    }
  }
  return { events, sizes };
}

async function main(): Promise<void> {
  const v = cli(
    process.argv.slice(2),
    {
      workload: { type: 'string', default: 'zipf' },
      direct: { type: 'boolean', default: false },
      batch: { type: 'string' },
      redis: { type: 'string' },
      brokers: { type: 'string' },
      partitions: { type: 'string' },
    },
    USAGE,
  );
  const workload = v.workload;
  const make = STREAMS[workload];
  if (!make) throw new UsageError(`--workload must be one of ${Object.keys(STREAMS).join(', ')}\n${USAGE}`);
  const direct = v.direct;
  const brokers = (v.brokers ?? process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const partitions = int(v.partitions, '--partitions', 4);
  const batch = int(v.batch, '--batch', 3000);
  const prefix = `bench-ingest-${process.pid}-${Date.now().toString(36)}:`;
  const store = new RedisStateStore(v.redis ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379', { keyPrefix: prefix });
  await store.ping();
  let commit = '';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a checkout: the commit stays unknown
  }
  const loadAtStart = loadavg()[0];
  try {
    const cat = catalog(5, 20_000, SDIM.d, 200);
    const stream = make(cat, direct ? 'd' : 'k');
    const log = (m: string) => process.stderr.write(`[ingest-run] ${m}\n`);
    const cut = partitionBatches(stream, partitions, batch);
    const topicPrefix = `${prefix.replace(/:$/, '')}.${workload}.`;
    const result = direct
      ? await ingestDirect(new BehaviorRepository(store, { sdim: SDIM }), store, cat, cut.events, cut.sizes)
      : await ingestThroughKafka(store, brokers, cat, stream, { prefix: topicPrefix, partitions, log }).finally(() => deleteTopics(brokers, topicPrefix));
    const load = [loadAtStart, loadavg()[0]].map((x) => Number(x.toFixed(2)));
    console.log(JSON.stringify({ commit, workload, path: direct ? 'direct' : 'kafka', load, ...result }));
  } finally {
    await deleteAllKeys(store);
    await store.close();
  }
}

runMain(main);
