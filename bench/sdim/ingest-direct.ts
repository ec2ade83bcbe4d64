import type { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { BehaviorRepository } from '../../apps/behavior/src/domain/behavior.repository';
import type { Catalog, StreamEvent } from './data';

/**
 * BehaviorRepository.applyBehaviors on batches of `batch` events into real Redis, without Kafka:
 * the repository's own rate and CPU split (this process vs the Redis server). The clock runs over
 * the applyBehaviors calls only; `steadyPerSecond` covers the batches after every user's history
 * reached the cap (each behaviour then also evicts one).
 */
export interface DirectIngestResult {
  events: number;
  batch: number;
  distinctUsers: number;
  distinctUsersPerBatch: number;
  historyCap: number;
  perSecond: number;
  fillPerSecond: number | null;
  steadyPerSecond: number | null;
  steadyEvents: number;
  evicted: number;
  itemUpsertsPerSecond: number;
  nodeCpuUsPerEvent: number;
  redisCpuUsPerEvent: number;
  writeMode: string;
  tablesCacheMiB: number;
}

/** Deletes every key of the store's prefix (the bench's keys), 1,000 per DEL. */
export async function deleteAllKeys(store: RedisStateStore): Promise<void> {
  const keys = await store.scanKeys('*');
  for (let i = 0; i < keys.length; i += 1000) await store.del(...keys.slice(i, i + 1000));
}

export const redisCpuSeconds = async (store: RedisStateStore): Promise<number> =>
  ((await store.client.info('cpu')).match(/used_cpu_(user|sys):([0-9.]+)/g) ?? []).map((x) => Number(x.split(':')[1])).reduce((x, y) => x + y, 0);

export async function upsertCatalog(repo: BehaviorRepository, cat: Catalog): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < cat.ids.length; i += 1000) {
    await repo.upsertItems(cat.ids.slice(i, i + 1000).map((itemId, j) => ({ itemId, embedding: cat.embeddings[i + j], updatedAt: 1 })));
  }
  return cat.ids.length / ((performance.now() - t0) / 1000);
}

/** `batch`: events per applyBehaviors call, or the sizes of the consecutive calls (they sum to the stream's length). */
export async function ingestDirect(repo: BehaviorRepository, store: RedisStateStore, cat: Catalog, stream: StreamEvent[], batch: number | readonly number[]): Promise<DirectIngestResult> {
  const sizes = typeof batch === 'number' ? Array.from({ length: Math.ceil(stream.length / batch) }, (_, i) => Math.min(batch, stream.length - i * batch)) : batch;
  if (sizes.reduce((a, b) => a + b, 0) !== stream.length) throw new Error('ingest: batch sizes do not cover the stream');
  const itemsPerSecond = await upsertCatalog(repo, cat);
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuSeconds(store);
  const cap = repo.config.historyCap;
  const seen = new Map<string, number>();
  const perUser = new Map<string, number>();
  for (const e of stream) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
  // Users that will ever fill their history; the steady phase starts once all of them have.
  const filling = [...perUser.values()].filter((n) => n >= cap).length;
  let full = 0;
  const phases = { fill: { events: 0, ms: 0 }, steady: { events: 0, ms: 0 } };
  let evicted = 0;
  let distinct = 0;
  let batches = 0;
  for (let i = 0, b = 0; i < stream.length; i += sizes[b++]) {
    const part = stream.slice(i, i + sizes[b]);
    const steady = filling > 0 && full === filling;
    const b0 = performance.now();
    const res = await repo.applyBehaviors(part);
    const ms = performance.now() - b0;
    evicted += res.evicted;
    distinct += new Set(part.map((e) => e.userId)).size;
    batches++;
    if (res.applied !== part.length) throw new Error(`ingest: ${res.applied} of ${part.length} applied`);
    const p = steady ? phases.steady : phases.fill;
    p.events += part.length;
    p.ms += ms;
    for (const e of part) {
      const n = (seen.get(e.userId) ?? 0) + 1;
      seen.set(e.userId, n);
      if (n === cap) full++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const redisSeconds = (await redisCpuSeconds(store)) - redis0;
  const total = phases.fill.events + phases.steady.events;
  const rate = (p: { events: number; ms: number }) => (p.events ? Math.round(p.events / (p.ms / 1000)) : null);
  return {
    events: total,
    batch: Math.round(total / batches),
    distinctUsers: perUser.size,
    distinctUsersPerBatch: Number((distinct / batches).toFixed(1)),
    historyCap: cap,
    perSecond: Math.round(total / ((phases.fill.ms + phases.steady.ms) / 1000)),
    fillPerSecond: rate(phases.fill),
    steadyPerSecond: rate(phases.steady),
    steadyEvents: phases.steady.events,
    evicted,
    itemUpsertsPerSecond: Math.round(itemsPerSecond),
    // CPU per behaviour, robust to other load on the machine: this process (repository + ioredis) and the Redis server.
    nodeCpuUsPerEvent: Number(((cpu.user + cpu.system) / total).toFixed(1)),
    redisCpuUsPerEvent: Number(((redisSeconds * 1e6) / total).toFixed(1)),
    writeMode: repo.config.writeMode,
    tablesCacheMiB: repo.config.tablesCacheBytes / 2 ** 20,
  };
}
