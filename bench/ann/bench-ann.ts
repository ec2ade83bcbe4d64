/**
 * bench:ann — recall@10 / QPS / latency / memory / build time of the exact, HNSW and SPANN indexes
 * against native peers (Python hnswlib, faiss IVF-Flat) on the same data, in one run. HNSW runs on
 * each engine given by --hnsw-engines: "hnsw" is the native addon, "hnsw-hnswlib-node" hnswlib-node.
 *
 *   npm run bench:ann -- --base B.fvecs --query Q.fvecs [--gt GT.ivecs] --out bench/results/x.json
 *   npm run bench:ann -- --synthetic 1000000,128 --queries 1000 --out bench/results/y.json
 *
 * Writes FILE.json and FILE.svg (recall vs QPS). Phases run one after another (never two heavy
 * things at once); every query loop is single-threaded. See bench/ann/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ExactIndex } from '@recsys/ann/exact.index';
import { HnswIndex, type HnswEngineName } from '@recsys/ann/hnsw.index';
import { readIvecs, readVectors, writeFvecs, writeIvecs, type FloatVectors } from '@recsys/ann/io/texmex';
import { truthRows } from '@recsys/ann/recall';
import { syntheticDataset } from '@recsys/ann/synthetic';
import type { VectorIndex } from '@recsys/ann/vector-index.port';
import { parseArgs, type BenchArgs } from './args';
import { UsageError } from '../common/cli';
import { machineInfo, qpsAtRecall, queryLoop, rss, type BenchResult } from './measure';
import { PeerServer, type PeersInfo } from './peers';
import { writeSvg } from '../common/plot';
import { machine } from '../common/machine';
import { recallQpsChart } from './plot';
import { buildSpann, loadSpann, type SpannRun } from './spann-runner';

/** Result name of each HNSW engine: the default (native) engine keeps the plain "hnsw" name. */
const HNSW_ROW: Record<HnswEngineName, string> = { native: 'hnsw', 'hnswlib-node': 'hnsw-hnswlib-node' };

function log(msg: string): void {
  process.stderr.write(`[bench:ann ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Dataset {
  name: string;
  base: FloatVectors;
  queries: FloatVectors;
  files: { base: string; query: string; gt?: string };
  generator?: Record<string, unknown>;
}

function loadDataset(a: BenchArgs, work: string): Dataset {
  if (a.synthetic) {
    const { n, dim } = a.synthetic;
    const clusters = a.clusters ?? Math.max(16, Math.round(Math.sqrt(n) / 2));
    const t0 = process.hrtime.bigint();
    const ds = syntheticDataset({ n, queries: a.queries, dim, clusters, seed: a.seed });
    const files = { base: join(work, 'base.fvecs'), query: join(work, 'query.fvecs') };
    writeFvecs(files.base, ds.base);
    writeFvecs(files.query, ds.queries);
    log(`synthetic ${n} x ${dim} (${clusters} clusters) + ${a.queries} queries generated in ${seconds(t0).toFixed(1)} s`);
    const m = ds.mixture;
    return {
      name: a.name ?? `synthetic-${n}x${dim}`,
      base: ds.base,
      queries: ds.queries,
      files,
      generator: { kind: 'anisotropic-gaussian-mixture', clusters: m.clusters, spread: m.spread, centerScale: m.centerScale, decay: m.decay, seed: m.seed },
    };
  }
  const base = readVectors(a.base!);
  const queries = readVectors(a.query!);
  if (queries.dim !== base.dim) throw new Error(`query dim ${queries.dim} != base dim ${base.dim}`);
  const name = a.name ?? basename(a.base!).replace(/(_base)?\.(f|b)vecs$/, '');
  return { name, base, queries, files: { base: a.base!, query: a.query!, gt: a.gt } };
}

/** Builds an index by upserting every base row as id String(row), measuring time and RSS growth. */
function buildByUpsert(index: VectorIndex, base: FloatVectors): { buildSeconds: number; rssDeltaBytes: number } {
  const r0 = rss();
  const t0 = process.hrtime.bigint();
  const { dim, count, data } = base;
  const step = Math.max(1, Math.floor(count / 10));
  for (let i = 0; i < count; i++) {
    index.upsert(String(i), data.subarray(i * dim, (i + 1) * dim));
    if (count >= 100000 && (i + 1) % step === 0) log(`  ${index.kind} build ${Math.round(((i + 1) / count) * 100)}% (${seconds(t0).toFixed(0)} s)`);
  }
  const buildSeconds = seconds(t0);
  return { buildSeconds, rssDeltaBytes: rss() - r0 };
}

function row(
  index: string,
  params: Record<string, unknown>,
  loop: ReturnType<typeof queryLoop>,
  memoryBytes: number,
  build: { buildSeconds: number; rssDeltaBytes: number },
  queries: number,
): BenchResult {
  const r: BenchResult = {
    index,
    params,
    recallAt10: loop.recall,
    qps: loop.qps,
    p50Ms: loop.p50Ms,
    p99Ms: loop.p99Ms,
    memoryBytes,
    buildSeconds: build.buildSeconds,
    rssDeltaBytes: build.rssDeltaBytes,
    queries,
  };
  return r;
}

function logRow(r: BenchResult): void {
  const sweep = ['ef', 'maxLists', 'nprobe']
    .filter((key) => r.params[key] !== undefined)
    .map((key) => `${key}=${String(r.params[key])}`)
    .join(' ');
  log(`  ${r.index} ${sweep} recall@10=${r.recallAt10.toFixed(4)} qps=${r.qps.toFixed(0)} p50=${r.p50Ms.toFixed(3)}ms p99=${r.p99Ms.toFixed(3)}ms`);
}

/** QPS ratio of two curves at a common recall: the target if both reach it, else the highest both reach. */
function ratioAtRecall(ours: BenchResult[], theirs: BenchResult[], target: number): Record<string, unknown> | null {
  if (ours.length === 0 || theirs.length === 0) return null;
  const maxBoth = Math.min(Math.max(...ours.map((r) => r.recallAt10)), Math.max(...theirs.map((r) => r.recallAt10)));
  const at = Math.min(target, maxBoth);
  const q1 = qpsAtRecall(
    ours.map((r) => ({ recall: r.recallAt10, qps: r.qps })),
    at,
  );
  const q2 = qpsAtRecall(
    theirs.map((r) => ({ recall: r.recallAt10, qps: r.qps })),
    at,
  );
  if (q1 === null || q2 === null) return null;
  return { ratio: q1 / q2, atRecall: at, targetRecall: target, reachedTarget: at === target, oursQps: q1, theirsQps: q2 };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'bench-ann-'));
  const started = Date.now();
  const startMachine = machine();
  try {
    const ds = loadDataset(a, work);
    const { dim, count: n } = ds.base;
    const nq = ds.queries.count;
    const k = a.k;
    log(`dataset ${ds.name}: ${n} x ${dim}, ${nq} queries, k=${k}`);
    const results: BenchResult[] = [];

    let truth: Int32Array[] | null = null;
    if (a.gt) {
      const gt = readIvecs(a.gt);
      if (gt.count !== nq) throw new Error(`--gt has ${gt.count} rows for ${nq} queries`);
      truth = truthRows(gt.data, gt.dim, gt.count, Math.min(k, gt.dim));
    }

    if (!a.skipExact) {
      log('exact: build + full scan (also the ground truth when no --gt)');
      const exact = new ExactIndex(dim, 'l2', { initialCapacity: n });
      const b = buildByUpsert(exact, ds.base);
      const loop = queryLoop(exact, ds.queries.data, dim, nq, k, truth ?? null, undefined, { runs: 1, minQueries: Math.min(a.minQueries, nq) });
      if (truth === null) {
        truth = loop.found;
        loop.recall = 1; // the exact answer is the ground truth
        const gtPath = join(work, 'gt.ivecs');
        const flat = new Int32Array(nq * k);
        loop.found.forEach((ids, i) => flat.set(ids.subarray(0, k), i * k));
        writeIvecs(gtPath, { dim: k, count: nq, data: flat });
        ds.files.gt = gtPath;
      }
      results.push(row('exact', exact.params(), loop, exact.memoryBytes(), b, nq));
    }

    // Builds, one after another: HNSW (each engine), SPANN, then the Python peers (Node idles meanwhile).
    const hnswRuns: Array<{ name: string; index: HnswIndex; build: { buildSeconds: number; rssDeltaBytes: number } }> = [];
    for (const engine of a.hnswEngines) {
      log(`${HNSW_ROW[engine]} (engine ${engine}): build M=${a.m} efConstruction=${a.efConstruction}`);
      const index = new HnswIndex(dim, 'l2', { m: a.m, efConstruction: a.efConstruction, ef: a.efs[0], initialCapacity: n, seed: 100, engine });
      const build = buildByUpsert(index, ds.base);
      log(`  built in ${build.buildSeconds.toFixed(1)} s (${JSON.stringify(index.engineInfo())})`);
      hnswRuns.push({ name: HNSW_ROW[engine], index, build });
    }

    const spannState = loadSpann();
    let spannNote: string | undefined;
    let spann: { run: SpannRun; build: { buildSeconds: number; rssDeltaBytes: number } } | null = null;
    if (a.spann && spannState.available) {
      log('spann: build');
      const r0 = rss();
      const t0 = process.hrtime.bigint();
      const run = await buildSpann(join(work, 'spann'), dim, ds.base.data, n);
      spann = { run, build: { buildSeconds: seconds(t0), rssDeltaBytes: rss() - r0 } };
      log(`  built in ${spann.build.buildSeconds.toFixed(1)} s`);
    } else {
      spannNote = a.spann ? `SPANN not run: ${(spannState as { reason: string }).reason}` : 'SPANN not run (--no-spann)';
      log(spannNote);
    }

    const nlist = a.nlist ?? Math.max(1, Math.round(4 * Math.sqrt(n)));
    let peers: { server: PeerServer; info: PeersInfo } | null = null;
    if (!a.skipPeers) {
      if (!ds.files.gt) throw new Error('peers need a ground-truth file (give --gt or do not --skip-exact)');
      log(`peers (python): build ${a.peers.map((p) => (p === 'hnswlib' ? `hnswlib M=${a.m} efConstruction=${a.efConstruction}` : `faiss IVF-Flat nlist=${nlist}`)).join('; ')}`);
      peers = await PeerServer.start(a, { base: ds.files.base, query: ds.files.query, gt: ds.files.gt }, nlist);
    }

    // Timed rounds: each round sweeps every index once (one timed run per setting), alternating
    // Node and Python, so both sides see the same machine load; the fastest run of each setting
    // over all rounds is kept.
    const best = new Map<string, BenchResult>();
    const keep = (r: BenchResult): void => {
      const key = `${r.index} ${JSON.stringify(r.params)}`;
      const prev = best.get(key);
      if (prev === undefined || r.qps > prev.qps) best.set(key, r);
    };
    const once = { runs: 1, minQueries: a.minQueries };
    for (let round = 0; round < a.runs; round++) {
      log(`timed round ${round + 1}/${a.runs}`);
      for (const h of hnswRuns) {
        for (const ef of a.efs) {
          const loop = queryLoop(h.index, ds.queries.data, dim, nq, k, truth, { ef }, once);
          keep(row(h.name, { m: a.m, efConstruction: a.efConstruction, ef }, loop, h.index.memoryBytes(), h.build, nq));
        }
      }
      if (peers?.info.peers.includes('hnswlib')) (await peers.server.sweep('hnswlib')).forEach(keep);
      if (spann !== null) {
        const { run, build } = spann;
        for (const p of a.probes) {
          const loop = queryLoop(run.index, ds.queries.data, dim, nq, k, truth, { [run.sweepKey]: p }, once);
          keep(row('spann', { ...run.index.params(), [run.sweepKey]: p }, loop, run.index.memoryBytes(), build, nq));
        }
      }
      if (peers?.info.peers.includes('faiss')) (await peers.server.sweep('faiss')).forEach(keep);
    }
    await peers?.server.close();
    results.push(...best.values());
    for (const r of results) logRow(r);

    const of = (name: string): BenchResult[] => results.filter((r) => r.index === name);
    const hnswVsNative = ratioAtRecall(of('hnsw'), of('hnswlib-python'), 0.95);
    const hnswlibNodeVsNative = ratioAtRecall(of(HNSW_ROW['hnswlib-node']), of('hnswlib-python'), 0.95);
    const spannVsFaiss = ratioAtRecall(of('spann'), of('faiss-ivfflat'), 0.9);
    const raw = n * dim * 4;
    const spannMem = of('spann')[0]?.memoryBytes;
    const native = of('hnswlib-python')[0];
    const hnsw0 = of('hnsw')[0];
    const report = {
      command: `npm run bench:ann -- ${process.argv.slice(2).join(' ')}`,
      date: new Date().toISOString(),
      machine: machineInfo(peers?.info.python ?? null, startMachine),
      versions: { 'hnswlib-node': require('hnswlib-node/package.json').version, ...(peers?.info.versions ?? {}) },
      hnswEngines: Object.fromEntries(hnswRuns.map((h) => [h.name, h.index.engineInfo()])),
      dataset: { name: ds.name, n, dim, queries: nq, k, metric: 'l2', groundTruth: a.gt ? 'file' : 'exact index', ...(ds.generator ? { generator: ds.generator } : {}) },
      results,
      ratios: {
        hnswQpsVsNativeAtEqualRecall: (hnswVsNative?.ratio as number | undefined) ?? null,
        hnswlibNodeQpsVsNativeAtEqualRecall: (hnswlibNodeVsNative?.ratio as number | undefined) ?? null,
        spannQpsVsFaissAtEqualRecall: (spannVsFaiss?.ratio as number | undefined) ?? null,
        spannMemoryVsRawVectors: spannMem !== undefined ? spannMem / raw : null,
        hnswMemoryVsRawVectors: hnsw0 ? hnsw0.memoryBytes / raw : null,
        hnswBuildSecondsVsNative: hnsw0 && native ? hnsw0.buildSeconds / native.buildSeconds : null,
        details: { hnswVsNative, hnswlibNodeVsNative, spannVsFaiss },
      },
      targets: {
        hnswRecallAt10AtLeast095: of('hnsw').some((r) => r.recallAt10 >= 0.95),
        hnswQpsAtLeast08xNative: hnswVsNative ? (hnswVsNative.reachedTarget as boolean) && (hnswVsNative.ratio as number) >= 0.8 : null,
        spannMemoryAtMost25PctRaw: spannMem !== undefined ? spannMem / raw <= 0.25 : null,
        spannRecallAt10AtLeast090: of('spann').length ? of('spann').some((r) => r.recallAt10 >= 0.9) : null,
        spannQpsAtLeastFaiss: spannVsFaiss ? (spannVsFaiss.reachedTarget as boolean) && (spannVsFaiss.ratio as number) >= 1 : null,
      },
      notes: [
        'Queries run one at a time on one thread in every index (Node and Python); QPS = queries / wall time of the timed loop after a warm-up.',
        'hnsw = HnswIndex on the native engine (native/hnsw addon, hnswlib 0.8.0, build flags in hnswEngines); hnsw-hnswlib-node = the same class on hnswlib-node 3.0.0. QPS includes the whole VectorIndex.search call (string ids and hit objects).',
        `Each setting: ${a.runs} timed rounds alternating Node and Python sweeps, each run over the query set repeated to >= ${a.minQueries} queries; the fastest run is kept (the exact index: one pass).`,
        "memoryBytes: layout formula for hnswlib (both sides) and the indexes' own memoryBytes(); rssDeltaBytes: process RSS growth over the build (noisy).",
        ...(spannNote ? [spannNote] : []),
      ],
      elapsedSeconds: (Date.now() - started) / 1000,
    };
    mkdirSync(dirname(a.out), { recursive: true });
    writeFileSync(a.out, JSON.stringify(report, null, 2) + '\n');
    const svgPath = a.out.replace(/\.json$/, '') + '.svg';
    writeSvg(svgPath, recallQpsChart(`${ds.name}: ${n} x ${dim}, ${nq} queries, recall@10 vs QPS (1 thread)`, results));
    log(`wrote ${a.out} and ${svgPath}`);
    log(`ratios ${JSON.stringify(report.ratios)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(e instanceof UsageError ? `${e.message}\n` : `bench:ann failed: ${e.message}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
