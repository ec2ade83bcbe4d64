/**
 * bench:sdim — SDIM interest from the stored tables vs exact target attention, bytes per user,
 * approximation quality, and the ingest rate of BehaviorRepository into real Redis.
 *
 *   npm run bench:sdim -- --out bench/results/sdim.json [--redis redis://127.0.0.1:16379] [--quick]
 *
 * Writes FILE.json and FILE.svg. Phases run one after another, single-threaded. See README.md.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { RedisStateStore } from '../../libs/infra/src/state-store/state-store.redis.adapter';
import { BucketTables, userTag, interestFromEncodedSignatures, meanRowCosine, simhashKernelAttentionBatch, SplitMix64, targetAttentionBatch, type Rows } from '../../libs/sdim/src';
import { syntheticUser } from '../../libs/sdim/src/synthetic';
import { BehaviorRepository } from '../../apps/behavior/src/domain/behavior.repository';
import { behaviorKeys } from '../../apps/behavior/src/domain/behavior-keys';
import { BehaviorInput } from '../../apps/behavior/src/domain/behavior.types';
import { behaviourStream, catalog, pseudoUuid } from './data';
import { ingestThroughKafka } from './ingest-kafka';
import { movielensQuality } from './movielens';
import { timingSvg } from './plot-svg';

const SDIM = { seed: 20220517, m: 48, tau: 3, d: 64 };
const B = 500;

interface Args {
  out: string;
  redis: string;
  quick: boolean;
  lengths: number[];
  ingestUsers: number;
  ingestPerUser: number;
  manyUsers: number;
  manyPerUser: number;
  batch: number;
  movielens?: string;
  brokers: string[] | null;
  partitions: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    out: get('out') ?? 'bench/results/sdim.json',
    redis: get('redis') ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379',
    quick,
    lengths: (get('lengths') ?? (quick ? '100,1000' : '100,1000,10000')).split(',').map(Number),
    ingestUsers: Number(get('ingest-users') ?? (quick ? 4 : 20)),
    ingestPerUser: Number(get('ingest-per-user') ?? (quick ? 3000 : 12_000)),
    manyUsers: Number(get('many-users') ?? (quick ? 1000 : 5000)),
    manyPerUser: Number(get('many-per-user') ?? 20),
    batch: Number(get('batch') ?? 500),
    movielens: get('movielens'),
    brokers: argv.includes('--no-kafka') ? null : (get('brokers') ?? process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(','),
    partitions: Number(get('partitions') ?? 4),
  };
}

const log = (msg: string) => process.stderr.write(`[bench:sdim ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function rowsOf(vs: Float32Array[], d: number): Rows {
  const data = new Float32Array(vs.length * d);
  vs.forEach((v, i) => data.set(v, i * d));
  return { data, rows: vs.length, cols: d };
}

/** Upserts one item per behaviour and feeds the history through the repository, batch by batch. */
async function loadUser(repo: BehaviorRepository, userId: string, history: Float32Array[], batch: number): Promise<void> {
  for (let i = 0; i < history.length; i += 1000) {
    await repo.upsertItems(history.slice(i, i + 1000).map((embedding, j) => ({ itemId: `${userId}-i${i + j}`, embedding, updatedAt: 1 })));
  }
  const r = new SplitMix64(history.length);
  const events: BehaviorInput[] = history.map((_, j) => ({ eventId: pseudoUuid(r), userId, itemId: `${userId}-i${j}`, type: 'click', ts: 1_700_000_000_000 + j * 60_000 }));
  for (let i = 0; i < events.length; i += batch) {
    const res = await repo.applyBehaviors(events.slice(i, i + batch));
    if (res.unknownItems.length || res.rejected.length) throw new Error('bench data was not accepted');
  }
}

async function userBytes(store: RedisStateStore, userId: string) {
  const keys = await store.scanKeys(`${userTag(userId)}:*`);
  const vals = await store.getMany(keys);
  const out = { tables: 0, embedding: 0, history: 0, keys: keys.length };
  keys.forEach((k, i) => {
    const n = vals[i]?.length ?? 0;
    if (k === behaviorKeys.tables(userId)) out.tables += n;
    else if (k === behaviorKeys.embedding(userId)) out.embedding += n;
    else out.history += n;
  });
  return out;
}

async function measureLength(store: RedisStateStore, repo: BehaviorRepository, L: number, a: Args) {
  const users = L >= 10_000 ? 2 : 3;
  const d = SDIM.d;
  const data = Array.from({ length: users }, (_, q) => syntheticUser({ seed: 1000 + 10 * L + q, d, length: L, candidates: B }));
  const ids = data.map((_, q) => `bench-L${L}-${q}`);
  for (let q = 0; q < users; q++) await loadUser(repo, ids[q], data[q].history, a.batch);
  log(`L=${L}: ${users} users loaded`);

  // SDIM per request: GET the tables, hash the 500 candidates, interest from the blob.
  const h = repo.hasher;
  const cands = data[0].candidates;
  const out = new Float64Array(B * d);
  const key = behaviorKeys.tables(ids[0]);
  const parts = { fetch: [] as number[], hash: [] as number[], interest: [] as number[], total: [] as number[] };
  const reps = a.quick ? 15 : 40;
  for (let rep = -5; rep < reps; rep++) {
    const t0 = now();
    const blob = await store.get(key);
    const t1 = now();
    const sigs = cands.map((c) => h.signatures(c));
    const t2 = now();
    interestFromEncodedSignatures(blob!, h, sigs, 'l2', out);
    const t3 = now();
    if (rep < 0) continue;
    parts.fetch.push(t1 - t0);
    parts.hash.push(t2 - t1);
    parts.interest.push(t3 - t2);
    parts.total.push(t3 - t0);
  }
  // Exact target attention over the full history (compute only: the history embeddings are
  // already in memory, which favours attention; fetching L embeddings would add to its time).
  const rows = rowsOf(data[0].history, d);
  const attReps = L >= 10_000 ? 2 : L >= 1000 ? 5 : 20;
  const att: number[] = [];
  for (let rep = -1; rep < attReps; rep++) {
    const t0 = now();
    targetAttentionBatch(cands, rows);
    if (rep >= 0) att.push(now() - t0);
  }
  // Quality: mean cosine over candidates and users.
  let cosKernel = 0;
  let cosSoftmax = 0;
  let cosKernelNone = 0;
  for (let q = 0; q < users; q++) {
    const blob = (await store.get(behaviorKeys.tables(ids[q])))!;
    const c = data[q].candidates;
    const sigs = c.map((x) => h.signatures(x));
    const sdim = interestFromEncodedSignatures(blob, h, sigs, 'l2');
    const r = rowsOf(data[q].history, d);
    const kernel = simhashKernelAttentionBatch(c, r, SDIM.tau);
    cosKernel += meanRowCosine(sdim, kernel, d) / users;
    cosKernelNone += meanRowCosine(interestFromEncodedSignatures(blob, h, sigs, 'none'), kernel, d) / users;
    cosSoftmax += meanRowCosine(sdim, targetAttentionBatch(c, r), d) / users;
  }
  const bytes = await userBytes(store, ids[0]);
  const sdimMs = median(parts.total);
  const attentionMs = median(att);
  const row = {
    L,
    sdimMs: round(sdimMs),
    attentionMs: round(attentionMs),
    speedup: round(attentionMs / sdimMs, 1),
    bytesPerUser: bytes.tables + bytes.embedding + bytes.history,
    cosKernel: round(cosKernel, 4),
    cosSoftmax: round(cosSoftmax, 4),
    cosKernelNormalizeNone: round(cosKernelNone, 4),
    sdimBreakdownMs: { fetch: round(median(parts.fetch)), hashCandidates: round(median(parts.hash)), interest: round(median(parts.interest)) },
    bytes,
    qualityUsers: users,
    timingReps: { sdim: reps, attention: attReps },
  };
  log(`L=${L}: ${JSON.stringify(row)}`);
  for (const id of ids) await repo.deleteUser(id);
  return row;
}

/** Isotropic control: behaviours uniform on the sphere (no interest structure), in memory. */
function isotropicControl(repo: BehaviorRepository, L: number) {
  const d = SDIM.d;
  const u = syntheticUser({ seed: 77, d, length: L, candidates: B, interests: L, spread: 0.0001 });
  const t = new BucketTables(repo.hasher);
  u.history.forEach((x) => t.add(x));
  const sdim = t.interestBatch(u.candidates);
  return { L, cosKernel: round(meanRowCosine(sdim, simhashKernelAttentionBatch(u.candidates, rowsOf(u.history, d), SDIM.tau), d), 4) };
}

async function measureIngest(store: RedisStateStore, a: Args, users: number, perUser: number, label: string) {
  const repo = new BehaviorRepository(store, { sdim: SDIM });
  const cat = catalog(5, 20_000, SDIM.d, 200);
  const t0 = now();
  for (let i = 0; i < cat.ids.length; i += 1000) {
    await repo.upsertItems(cat.ids.slice(i, i + 1000).map((itemId, j) => ({ itemId, embedding: cat.embeddings[i + j], updatedAt: 1 })));
  }
  const itemsPerSecond = cat.ids.length / ((now() - t0) / 1000);
  const stream = behaviourStream(11, cat, users, perUser, label);
  const redisCpu = async () => ((await store.client.info('cpu')).match(/used_cpu_(user|sys):([0-9.]+)/g) ?? []).map((x) => Number(x.split(':')[1])).reduce((x, y) => x + y, 0);
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpu();
  const cap = repo.config.historyCap;
  const seen = new Map<string, number>();
  let full = 0;
  const phases = { fill: { events: 0, ms: 0 }, steady: { events: 0, ms: 0 } };
  let evicted = 0;
  let distinct = 0;
  let batches = 0;
  for (let i = 0; i < stream.length; i += a.batch) {
    const batch = stream.slice(i, i + a.batch);
    const steady = full === users;
    const b0 = now();
    const res = await repo.applyBehaviors(batch);
    const ms = now() - b0;
    evicted += res.evicted;
    distinct += new Set(batch.map((e) => e.userId)).size;
    batches++;
    if (res.applied !== batch.length) throw new Error(`ingest: ${res.applied} of ${batch.length} applied`);
    const p = steady ? phases.steady : phases.fill;
    p.events += batch.length;
    p.ms += ms;
    for (const e of batch) {
      const n = (seen.get(e.userId) ?? 0) + 1;
      seen.set(e.userId, n);
      if (n === cap) full++;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const redisSeconds = (await redisCpu()) - redis0;
  const total = phases.fill.events + phases.steady.events;
  const totalMs = phases.fill.ms + phases.steady.ms;
  const rate = (p: { events: number; ms: number }) => (p.events ? Math.round(p.events / (p.ms / 1000)) : null);
  const result = {
    users,
    eventsPerUser: perUser,
    events: total,
    batch: a.batch,
    distinctUsersPerBatch: round(distinct / batches, 1),
    historyCap: cap,
    perSecond: Math.round(total / (totalMs / 1000)),
    fillPerSecond: rate(phases.fill),
    steadyPerSecond: rate(phases.steady),
    steadyEvents: phases.steady.events,
    evicted,
    itemUpsertsPerSecond: Math.round(itemsPerSecond),
    // CPU per behaviour, robust to other load on the machine: this process (repository + ioredis) and the Redis server.
    nodeCpuUsPerEvent: round((cpu.user + cpu.system) / total, 1),
    redisCpuUsPerEvent: round((redisSeconds * 1e6) / total, 1),
    writeMode: repo.config.writeMode,
  };
  log(`ingest ${label}: ${JSON.stringify(result)}`);
  return result;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const prefix = `bench-sdim-${process.pid}-${Date.now().toString(36)}:`;
  const store = new RedisStateStore(a.redis, { keyPrefix: prefix });
  await store.ping();
  const redisVersion = /redis_version:(\S+)/.exec(await store.client.info('server'))?.[1];
  try {
    const repo = new BehaviorRepository(store, { sdim: SDIM });
    const results: Awaited<ReturnType<typeof measureLength>>[] = [];
    for (const L of a.lengths) results.push(await measureLength(store, repo, L, a));
    const control = isotropicControl(repo, 1000);
    log(`isotropic control: ${JSON.stringify(control)}`);
    const realData = a.movielens ? movielensQuality(a.movielens, SDIM.d, repo.hasher) : null;
    if (realData) log(`MovieLens quality: ${JSON.stringify(realData)}`);
    const ingest = await measureIngest(store, a, a.ingestUsers, a.ingestPerUser, 'few');
    const many = await measureIngest(store, a, a.manyUsers, a.manyPerUser, 'many');
    let kafka = null;
    if (a.brokers) {
      const cat = catalog(5, 20_000, SDIM.d, 200);
      const opts = { prefix: `${prefix.replace(/:$/, '')}.`, partitions: a.partitions, log };
      const few = await ingestThroughKafka(store, a.brokers, cat, behaviourStream(11, cat, a.ingestUsers, a.ingestPerUser, 'kfew'), opts);
      log(`kafka few: ${JSON.stringify(few)}`);
      const lots = await ingestThroughKafka(store, a.brokers, cat, behaviourStream(12, cat, a.manyUsers, a.manyPerUser, 'kmany'), { ...opts, prefix: `${opts.prefix}m.` });
      log(`kafka many: ${JSON.stringify(lots)}`);
      kafka = { fewUsers: { users: a.ingestUsers, eventsPerUser: a.ingestPerUser, ...few }, manyUsers: { users: a.manyUsers, eventsPerUser: a.manyPerUser, ...lots } };
    }
    const at = (L: number) => results.find((r) => r.L === L);
    const first = results[0];
    const last = results[results.length - 1];
    const report = {
      command: `npm run bench:sdim -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30, 1), loadavgAtEnd: loadavg().map((x) => round(x, 2)), node: process.version, redis: redisVersion, redisUrl: a.redis },
      params: {
        ...SDIM,
        candidates: B,
        lengths: a.lengths,
        normalize: "l2 (cosKernel, cosSoftmax); cosKernelNormalizeNone: the same tables with normalize 'none', the consistent estimator of the kernel direction",
        writeMode: repo.config.writeMode,
        historyCap: repo.config.historyCap,
        tablesDtype: 'i32 (exact fixed point)',
        attention: 'softmax(q.x/sqrt(d)) over the full history, keys = values = behaviour embeddings, compute only',
        kernel: 'simhashKernelAttention: weights (1 - angle/pi)^tau, normalised to sum 1',
        data: 'libs/sdim syntheticUser: 5 interests per user with weights 1/(i+1), behaviours = centroid + noise of norm 0.7, unit vectors; candidates alternate near an interest / uniform on the sphere',
        sdimTiming: 'median over reps of: GET tables blob from Redis + hash 500 candidates + interest straight from the blob',
      },
      results,
      ingestPerSecond: kafka ? kafka.fewUsers.perSecond : (ingest.steadyPerSecond ?? ingest.perSecond),
      ingestPath: kafka
        ? `Kafka (${a.partitions} partitions, real broker) -> the behavior app's batch consumer (apps/behavior/src/behavior.consumers.ts: decode + zod validation + BehaviorRepository.applyBehaviors) -> real Redis; ${a.ingestUsers} users x ${a.ingestPerUser} behaviours (history cap 10,000: the last part evicts). ingestDirect: the repository alone, batches of ${a.batch}`
        : 'BehaviorRepository.applyBehaviors into real Redis (Kafka skipped); steady state, every history full and evicting',
      ingestKafka: kafka,
      ingestDirect: { fewUsers: ingest, manyUsers: many },
      isotropicControl: control,
      realDataQuality: realData,
      targets: {
        speedupAtL1000: at(1000) ? { value: at(1000)!.speedup, target: '>= 20', pass: at(1000)!.speedup >= 20 } : null,
        sdimGrowth100to10000: at(100) && at(10_000) ? { value: round(at(10_000)!.sdimMs / at(100)!.sdimMs, 3), target: '< 1.3', pass: at(10_000)!.sdimMs / at(100)!.sdimMs < 1.3 } : { value: round(last.sdimMs / first.sdimMs, 3), note: `L=${first.L}..${last.L} only` },
        ingestPerSecond: (() => {
          const v = kafka ? kafka.fewUsers.perSecond : (ingest.steadyPerSecond ?? ingest.perSecond);
          return { value: v, target: '>= 20000', pass: v >= 20_000 };
        })(),
        cosKernel: { value: Math.min(...results.map((r) => r.cosKernel)), target: '>= 0.95 (every L)', pass: results.every((r) => r.cosKernel >= 0.95) },
      },
    };
    mkdirSync(dirname(a.out), { recursive: true });
    writeFileSync(a.out, JSON.stringify(report, null, 2) + '\n');
    const svg = a.out.replace(/\.json$/, '') + '.svg';
    writeFileSync(svg, timingSvg(results, `SDIM vs target attention, B=${B}, d=${SDIM.d}, m=${SDIM.m}, tau=${SDIM.tau}`));
    log(`wrote ${a.out} and ${svg}`);
    console.log(JSON.stringify(report.targets, null, 2));
  } finally {
    const keys = await store.scanKeys('*');
    for (let i = 0; i < keys.length; i += 1000) await store.del(...keys.slice(i, i + 1000));
    await store.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
