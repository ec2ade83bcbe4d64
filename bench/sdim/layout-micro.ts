import type { Redis } from 'ioredis';
import { redisCpuSeconds } from './ingest-direct';
import type { RedisStateStore } from '@recsys/infra/state-store/state-store.redis.adapter';
import { median } from '../common/stats';

/**
 * What one user touched by a batch costs in Redis I/O alone, for two layouts of the tables, with
 * ioredis straight (the StateStore port has no HMGET): the Redis round trips of a batch of `users`
 * distinct users, each touched once, repeated, alternating the layouts.
 * - blob (what apps/behavior does): MGET head + tables blob (int32, every bucket non-empty: 33 KB
 *   at d = 64), then one MULTI: SET head, SET tables, SET embedding.
 * - hash (one field per bucket, the layout that writes O(m/tau) bytes): HMGET head + the 16 touched
 *   buckets, then one MULTI: HSET head + 16 buckets (260 bytes each), SET embedding.
 * Both keep the history's newest entries in the head (1.5 KB here). Reported: CPU of this process
 * and of the Redis server per user touched, and wall time, medians over rounds.
 */
export interface LayoutCost {
  nodeCpuUsPerUser: number;
  redisCpuUsPerUser: number;
  wallUsPerUser: number;
}

export async function layoutMicro(store: RedisStateStore, prefix: string, users = 500, rounds = 16, d = 64): Promise<{ users: number; rounds: number; blob: LayoutCost; hash: LayoutCost }> {
  const r: Redis = store.client;
  const tables = Buffer.alloc(24 + 2 * 128 + 4 * 128 + 4 * 128 * d, 3);
  const head = Buffer.alloc(1536, 1);
  const emb = Buffer.alloc(4 * d, 4);
  const bucket = Buffer.alloc(4 * (d + 1), 5);
  const key = (u: number, s: string) => `${prefix}layout:{u:${u}}:${s}`;
  const samples = { blob: [] as LayoutCost[], hash: [] as LayoutCost[] };
  for (let round = 0; round < 2 * rounds; round++) {
    const layout = round % 2 === 0 ? 'blob' : 'hash';
    const fields = Array.from({ length: 16 }, (_, j) => String(j * 8 + (round % 8)));
    const c0 = process.cpuUsage();
    const r0 = await redisCpuSeconds(store);
    const t0 = performance.now();
    if (layout === 'blob') {
      await r.mgetBuffer(...Array.from({ length: users }, (_, u) => [key(u, 'hist'), key(u, 'sdim')]).flat());
      const m = r.multi();
      for (let u = 0; u < users; u++) m.set(key(u, 'hist'), head).set(key(u, 'sdim'), tables).set(key(u, 'emb'), emb);
      await m.exec();
    } else {
      const p = r.pipeline();
      for (let u = 0; u < users; u++) p.hmgetBuffer(key(u, 'sdimh'), 'h', ...fields);
      await p.exec();
      const m = r.multi();
      for (let u = 0; u < users; u++) {
        const args: (string | Buffer)[] = ['h', head];
        for (const f of fields) args.push(f, bucket);
        m.hset(key(u, 'sdimh'), ...args).set(key(u, 'emb'), emb);
      }
      await m.exec();
    }
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const rs = (await redisCpuSeconds(store)) - r0;
    // The first round of each layout creates the keys: not counted.
    if (round >= 2) samples[layout].push({ nodeCpuUsPerUser: (c.user + c.system) / users, redisCpuUsPerUser: (rs * 1e6) / users, wallUsPerUser: (wall * 1000) / users });
  }
  const keys = await store.scanKeys('layout:*');
  for (let i = 0; i < keys.length; i += 1000) await store.del(...keys.slice(i, i + 1000));
  const summary = (xs: LayoutCost[]): LayoutCost => ({
    nodeCpuUsPerUser: Number(median(xs.map((x) => x.nodeCpuUsPerUser)).toFixed(1)),
    redisCpuUsPerUser: Number(median(xs.map((x) => x.redisCpuUsPerUser)).toFixed(1)),
    wallUsPerUser: Number(median(xs.map((x) => x.wallUsPerUser)).toFixed(1)),
  });
  return { users, rounds, blob: summary(samples.blob), hash: summary(samples.hash) };
}
