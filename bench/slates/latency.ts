/**
 * bench:slates, serving and learning phases:
 * - POST /v1/slates in process: the SlateBuilder (zod validation, one batched posterior read from
 *   the embedded state store, beliefs, policy, 200 Monte Carlo propensity draws) for 500
 *   candidates, size 10, on this one thread; and the same through the slates app's HTTP API
 *   (in-process Nest app on embedded adapters, one sequential keep-alive client).
 * - Feedback learning on real Kafka + Redis (when reachable): impressions and clicks produced
 *   with kafkajs, the slates app's consumers applying them into Redis: events/s, and the time from
 *   producing a click to seeing it in GET /v1/slates/posteriors/{itemId}.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import { createLogger, loadConfig, startSuite } from '@recsys/platform';
import { Rng, newEffect } from '@recsys/bandits';
import { TOPICS } from '@recsys/contracts';
import { summarize } from '../common/stats';
import { slateRequest } from '../../apps/slates/src/api/dto';
import { slatesKeys } from '../../apps/slates/src/domain/keys';
import { encodeEffect, encodeItem, PosteriorStore } from '../../apps/slates/src/domain/posterior-store';
import { SlateBuilder } from '../../apps/slates/src/domain/slate-builder';
import { SlatesService } from '../../apps/slates/src/slates.service';
import { slatesApp } from '../../apps/slates/src/slates.app';

const ms = (ns: bigint) => Number(ns) / 1e6;

function candidates(n: number, seed: number) {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => ({ itemId: `item-${i}`, score: 0.01 + 0.3 * r.nextDouble(), group: `g${i % 25}` }));
}

async function seedPosteriors(state: MemoryStateStore, n: number) {
  const r = new Rng(3);
  const writes: [string, Buffer][] = [[slatesKeys.slope(), encodeEffect({ ...newEffect(1.1, 900), clicks: 5000, exposures: 90000 })]];
  for (let g = 0; g < 25; g++) writes.push([slatesKeys.group(`g${g}`), encodeEffect({ ...newEffect(0.2 * r.normal(), 50 + 200 * r.nextDouble()), clicks: 100, exposures: 1000 })]);
  for (let i = 0; i < n; i++)
    writes.push([slatesKeys.item(`item-${i}`), encodeItem({ ...newEffect(0.4 * r.normal(), 4 + 60 * r.nextDouble()), clicks: 3, exposures: 40, group: `g${i % 25}`, updatedAt: 1 })]);
  await state.setMany(writes);
}

export async function measureLatency(iterations: number) {
  const state = new MemoryStateStore();
  await seedPosteriors(state, 500);
  const builder = new SlateBuilder(new PosteriorStore(state), 2000);
  const cands = candidates(500, 1);
  const out: Record<string, unknown> = { candidates: 500, size: 10, draws: 200, iterations };
  for (const policy of ['in-slate-ts', 'slate-ts', 'greedy'] as const) {
    const times: number[] = [];
    let cpu = { user: 0, system: 0 };
    for (let k = 0; k < iterations + 200; k++) {
      const body = { userId: 'u', size: 10, candidates: cands, policy, seed: k, draws: 200 };
      if (k === 200) cpu = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await builder.build(slateRequest.parse(body));
      if (k >= 200) times.push(ms(process.hrtime.bigint() - t0));
    }
    const used = process.cpuUsage(cpu);
    // wall-clock percentiles, plus this thread's CPU time per request (what one core spends; on a
    // shared machine the wall time also holds the time the thread waited for a core)
    out[`inProcess:${policy}`] = { ...summarize(times), cpuMsPerRequest: (used.user + used.system) / 1000 / iterations };
  }
  // Through HTTP on the in-process app (embedded adapters, same posteriors).
  const config = loadConfig({ APPS: 'slates', SLATES_PORT: '0', LOG_LEVEL: 'warn', SEED_DEMO: 'false' });
  const suite = await startSuite(config, [slatesApp], createLogger('warn'));
  try {
    await seedPosteriors(suite.infra.state as MemoryStateStore, 500);
    const url = `${suite.apps[0].url}/v1/slates`;
    const times: number[] = [];
    for (let k = 0; k < Math.min(iterations, 1000) + 100; k++) {
      const payload = JSON.stringify({ userId: 'u', size: 10, candidates: cands, seed: k, draws: 200 });
      const t0 = process.hrtime.bigint();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`POST /v1/slates answered ${res.status}`);
      if (k >= 100) times.push(ms(process.hrtime.bigint() - t0));
    }
    out['http:in-slate-ts'] = summarize(times);
  } finally {
    await suite.close();
  }
  return out;
}

/** Feedback consumer on real Kafka + Redis: throughput of a pre-produced backlog, then click-to-posterior latency. */
export async function measureLearning(opts: { brokers: string; redisUrl: string; requests: number; itemsPerImpression: number; clickRate: number; probes: number }) {
  const prefix = `bench-slates-${process.pid}-${Date.now().toString(36)}.`;
  const kafka = new Kafka({ brokers: opts.brokers.split(','), clientId: 'bench-slates', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const r = new Rng(9);
  const users = 1000;
  const now = Date.now();
  const imps: { key: string; value: string }[] = [];
  const fbs: { key: string; value: string }[] = [];
  for (let q = 0; q < opts.requests; q++) {
    const user = `u${q % users}`;
    const items = Array.from({ length: opts.itemsPerImpression }, (_, p) => ({ itemId: `it${r.nextInt(5000)}-${p}`, position: p, score: 0.05 + 0.2 * r.nextDouble(), group: `g${r.nextInt(30)}` }));
    imps.push({ key: user, value: JSON.stringify({ eventId: `i${q}`, key: user, timestamp: now, schemaVersion: 1, requestId: `r${q}`, userId: user, surface: 'home', items }) });
    for (const it of items)
      if (r.nextDouble() < opts.clickRate)
        fbs.push({
          key: user,
          value: JSON.stringify({ eventId: `c${q}-${it.itemId}`, key: user, timestamp: now + 1, schemaVersion: 1, requestId: `r${q}`, userId: user, itemId: it.itemId, type: 'click' }),
        });
  }
  const events = imps.length + fbs.length;
  await admin.createTopics({ topics: [TOPICS.feedImpressions, TOPICS.feedFeedback].map((t) => ({ topic: `${prefix}${t}`, numPartitions: 4 })) });
  for (let k = 0; k < imps.length; k += 500) await producer.send({ topic: `${prefix}${TOPICS.feedImpressions}`, messages: imps.slice(k, k + 500) });
  for (let k = 0; k < fbs.length; k += 2000) await producer.send({ topic: `${prefix}${TOPICS.feedFeedback}`, messages: fbs.slice(k, k + 2000) });
  process.env.SLATES_FEEDBACK_WINDOW_MS = '600000';
  const config = loadConfig({
    APPS: 'slates',
    SLATES_PORT: '0',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    KAFKA_BROKERS: opts.brokers,
    KAFKA_TOPIC_PREFIX: prefix,
    REDIS_URL: opts.redisUrl,
    STATE_PREFIX: prefix,
  });
  const t0 = Date.now();
  const suite = await startSuite(config, [slatesApp], createLogger('warn'));
  const result: Record<string, unknown> = { requests: opts.requests, impressions: imps.length, clicks: fbs.length, events };
  try {
    const service = suite.apps[0].nest.get(SlatesService);
    const applied = () => service.learner.stats.duplicates + service.learner.stats.clicks + service.learner.deadlines.size;
    // every impression opens a window (deadlines), every click that joins counts once
    let first = 0;
    const cpu0 = process.cpuUsage();
    while (service.learner.deadlines.size < imps.length || service.learner.stats.clicks < fbs.length) {
      if (!first && applied() > 0) first = Date.now();
      if (Date.now() - t0 > 600_000) throw new Error(`backlog not applied in 10 min (${applied()})`);
      await new Promise((res) => setTimeout(res, 5));
    }
    const cpu = process.cpuUsage(cpu0);
    const end = Date.now();
    result.startupSeconds = ((first || end) - t0) / 1000;
    result.applySeconds = (end - (first || t0)) / 1000;
    result.eventsPerSecond = events / Math.max(1e-3, (end - (first || t0)) / 1000);
    result.nodeCpuUsPerEvent = (cpu.user + cpu.system) / events;
    result.note =
      'events/s from the first applied event to the last (consumer fetch, validation, join, Laplace updates, one MULTI/EXEC per batch into Redis); startupSeconds = app start and consumer-group join';
    // click -> posterior visibility
    const url = suite.apps[0].url;
    const lat: number[] = [];
    for (let k = 0; k < opts.probes; k++) {
      const user = `probe${k}`;
      const itemId = `probe-item-${k}`;
      await producer.send({
        topic: `${prefix}${TOPICS.feedImpressions}`,
        messages: [
          {
            key: user,
            value: JSON.stringify({
              eventId: `pi${k}`,
              key: user,
              timestamp: Date.now(),
              schemaVersion: 1,
              requestId: `pr${k}`,
              userId: user,
              surface: 'home',
              items: [{ itemId, position: 0, score: 0.1, group: 'gp' }],
            }),
          },
        ],
      });
      await new Promise((res) => setTimeout(res, 50));
      const t1 = process.hrtime.bigint();
      await producer.send({
        topic: `${prefix}${TOPICS.feedFeedback}`,
        messages: [{ key: user, value: JSON.stringify({ eventId: `pc${k}`, key: user, timestamp: Date.now(), schemaVersion: 1, requestId: `pr${k}`, userId: user, itemId, type: 'click' }) }],
      });
      for (;;) {
        const res = await fetch(`${url}/v1/slates/posteriors/${itemId}`);
        const body = (await res.json()) as { item?: { clicks: number } };
        if (res.status === 200 && body.item?.clicks === 1) break;
        if (Number(process.hrtime.bigint() - t1) > 30e9) throw new Error('click not visible within 30 s');
        await new Promise((res2) => setTimeout(res2, 5));
      }
      lat.push(ms(process.hrtime.bigint() - t1));
    }
    result.clickToPosteriorMs = summarize(lat);
    // closing the backlog's feedback windows: every shown item not clicked becomes a skip
    const open = service.learner.deadlines.size;
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    const closed = await service.learner.closeDue(Date.now() + 3_600_000);
    const wallS = Number(process.hrtime.bigint() - w0) / 1e9;
    const cc = process.cpuUsage(c0);
    result.windowClose = {
      open,
      closed,
      skipsApplied: service.learner.stats.skips,
      seconds: wallS,
      requestsPerSecond: closed / wallS,
      skipsPerSecond: service.learner.stats.skips / wallS,
      nodeCpuUsPerRequest: (cc.user + cc.system) / Math.max(1, closed),
    };
  } finally {
    await suite.close();
    await producer.disconnect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    const { default: Redis } = await import('ioredis');
    const redis = new Redis(opts.redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
  return result;
}
