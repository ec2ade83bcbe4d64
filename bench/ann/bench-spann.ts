/**
 * bench:ann:spann — SPANN on a warm and a cold page cache against faiss IVF-Flat (warm, nlist and
 * nprobe swept) and DiskANN (diskannpy's memory-disk index, warm and cold), same data, same run.
 *
 *   npm run bench:ann:spann -- --base B.fvecs --query Q.fvecs [--gt GT.ivecs] --prepare-only      (builds, untimed)
 *   flock /tmp/recsys-bench.lock npm run bench:ann:spann -- --base ... --out bench/results/ann-NAME-spann.json
 *
 * The queries are split: the first --val-fraction (validation) tune the probe count, the rest
 * are reported. Builds are cached under --cache (default /tmp/spann-bench/NAME), so the locked
 * run only times queries. Writes NAME.json and NAME.svg. See bench/ann/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SpannIndex, availableIoModes, buildSpannForBench, DEFAULT_SPANN_PARAMS, type PostingIoMode } from '@recsys/ann/spann/index';
import { readIvecs, readVectors, writeFvecs, type FloatVectors } from '@recsys/ann/io/texmex';
import { recallAtK, truthRows } from '@recsys/ann/recall';
import { syntheticDataset } from '@recsys/ann/synthetic';
import type { SearchOptions } from '@recsys/ann/vector-index.port';
import { runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg } from '../common/plot';
import { quantileSorted } from '../common/stats';
import { queryLoop, ratioAtRecall } from './measure';
import { parseSpannArgs, type SpannBenchArgs } from './spann-args';
import { spannChart } from './spann-plot';

export interface SpannRow {
  index: string;
  /** warm, cold (page cache dropped before each timed pass) or cold-query (before every query). */
  mode: 'warm' | 'cold' | 'cold-query';
  io?: PostingIoMode;
  params: Record<string, unknown>;
  recallAt10: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  /** In-RAM bytes (SPANN: memoryBytes(); faiss: vectors + ids + centroids; DiskANN: PQ codes + pivots). */
  memoryBytes: number;
  /** SPANN: posting-file bytes in the page cache after the run (mincore), and the file size. */
  pageCacheBytes?: number;
  postingFileBytes?: number;
  buildSeconds: number;
  queries: number;
}

function log(msg: string): void {
  process.stderr.write(`[bench:ann:spann ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

interface Data {
  name: string;
  dir: string;
  files: { base: string; query: string; gt: string };
  base: FloatVectors;
  queries: FloatVectors;
  truth: Int32Array[];
}

function python(a: SpannBenchArgs, args: string[]): string {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(a.python, ['bench/ann/spann_peers.py', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`spann_peers.py ${args[0]} failed (exit ${r.status}): ${String(r.error ?? '')}`);
  // DiskANN prints progress on stdout too: the answer is the last line that is a JSON object.
  const lines = r.stdout
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  if (lines.length === 0) throw new Error(`spann_peers.py ${args[0]} printed no JSON`);
  return lines[lines.length - 1];
}

function loadData(a: SpannBenchArgs): Data {
  let name: string;
  let files: { base: string; query: string; gt?: string };
  if (a.synthetic) {
    const { n, dim } = a.synthetic;
    name = a.name ?? `synthetic-${n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}m` : n}`;
    const dir = join(a.cache, name);
    mkdirSync(dir, { recursive: true });
    files = { base: join(dir, 'base.fvecs'), query: join(dir, 'query.fvecs') };
    if (!existsSync(files.base) || !existsSync(files.query)) {
      const clusters = a.clusters ?? Math.max(16, Math.round(Math.sqrt(n) / 2));
      log(`generating synthetic ${n} x ${dim} (${clusters} clusters, seed ${a.seed}) + ${a.queries} queries`);
      const ds = syntheticDataset({ n, queries: a.queries, dim, clusters, seed: a.seed });
      writeFvecs(files.base, ds.base);
      writeFvecs(files.query, ds.queries);
    }
  } else {
    name = a.name ?? basename(a.base!).replace(/(_base)?\.(f|b)vecs$/, '');
    files = { base: a.base!, query: a.query!, gt: a.gt };
  }
  const dir = join(a.cache, name);
  mkdirSync(dir, { recursive: true });
  if (files.gt === undefined) {
    files.gt = join(dir, 'gt.ivecs');
    if (!existsSync(files.gt)) {
      log('ground truth (faiss IndexFlatL2, exact)');
      python(a, ['gt', '--base', files.base, '--query', files.query, '--out', files.gt, '--k', '100', '--threads', String(a.buildThreads)]);
    }
  }
  const base = readVectors(files.base);
  const queries = readVectors(files.query);
  const gt = readIvecs(files.gt);
  if (gt.count !== queries.count) throw new Error(`ground truth has ${gt.count} rows for ${queries.count} queries`);
  return { name, dir, files: files as Data['files'], base, queries, truth: truthRows(gt.data, gt.dim, gt.count, Math.min(a.k, gt.dim)) };
}

/** The SPANN index with default parameters, built once and cached as a snapshot under the data's cache dir. */
async function spannIndex(d: Data): Promise<{ index: SpannIndex; buildSeconds: number }> {
  const dir = join(d.dir, 'spann-default');
  const meta = join(dir, 'bench-build.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { buildSeconds: number; params: unknown };
    // flatCentroidRatio only changes builds whose N / 64 centroids stay under 600 (the flat limit).
    const same = (p: unknown): string =>
      JSON.stringify({ ...(p as object), flatCentroidRatio: d.base.count * DEFAULT_SPANN_PARAMS.centroidRatio >= 600 ? null : ((p as { flatCentroidRatio?: number }).flatCentroidRatio ?? 0) });
    if (same(m.params) === same(DEFAULT_SPANN_PARAMS)) return { index: await SpannIndex.open(dir), buildSeconds: m.buildSeconds };
    log('cached SPANN build has other default parameters: rebuilding');
  }
  log(`spann: build ${d.base.count} x ${d.base.dim}`);
  const t0 = process.hrtime.bigint();
  const index = await buildSpannForBench(d.base.data, d.base.count, d.base.dim, 'l2', dir);
  const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await index.save(dir);
  writeFileSync(meta, JSON.stringify({ buildSeconds, params: DEFAULT_SPANN_PARAMS }) + '\n');
  log(`  built in ${buildSeconds.toFixed(1)} s`);
  return { index, buildSeconds };
}

/** recall@10 (recall@k for k < 10) of the answers. */
const recallOf = (found: Int32Array[], truth: Int32Array[], k: number): number => recallAtK(found, truth, Math.min(10, k));

/** One untimed pass (recall only): the validation sweep. */
function recallPass(index: SpannIndex, q: Float32Array, dim: number, count: number, k: number, truth: Int32Array[], opts: SearchOptions): number {
  const found: Int32Array[] = [];
  for (let i = 0; i < count; i++) found.push(Int32Array.from(index.search(q.subarray(i * dim, (i + 1) * dim), k, undefined, opts).map((h) => Number(h.id))));
  return recallOf(found, truth, k);
}

/**
 * Cold passes: the posting file dropped from the page cache (posix_fadvise DONTNEED) before the
 * pass (cold) or before every query (cold-query; the drop itself is not timed). No warm-up, one
 * pass per run, the fastest of `runs` kept. QPS = queries / summed query time.
 */
function coldLoop(index: SpannIndex, q: Float32Array, dim: number, count: number, k: number, truth: Int32Array[], opts: SearchOptions, perQuery: boolean, runs: number) {
  let best: { qps: number; lat: Float64Array; read: number } | null = null;
  let recall = NaN;
  for (let run = 0; run < runs; run++) {
    const lat = new Float64Array(count);
    const found: Int32Array[] = [];
    if (!index.dropPageCache()) throw new Error('cannot drop the page cache (native/spann-io not built?)');
    let read = 0;
    for (let i = 0; i < count; i++) {
      if (perQuery) {
        read += index.pageCacheBytes()?.resident ?? 0;
        index.dropPageCache();
      }
      const s = process.hrtime.bigint();
      const hits = index.search(q.subarray(i * dim, (i + 1) * dim), k, undefined, opts);
      lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
      if (run === 0) found.push(Int32Array.from(hits.map((h) => Number(h.id))));
    }
    read += index.pageCacheBytes()?.resident ?? 0;
    if (run === 0) recall = recallOf(found, truth, k);
    const qps = count / (lat.reduce((x, y) => x + y, 0) / 1000);
    if (best === null || qps > best.qps) best = { qps, lat, read };
  }
  const lat = best!.lat.sort();
  return { recall, qps: best!.qps, p50Ms: quantileSorted(lat, 0.5), p99Ms: quantileSorted(lat, 0.99), bytesFromDevicePerQuery: best!.read / count };
}

/** SPANN's QPS ratios at the target recall: warm vs faiss (per I/O mode), cold vs DiskANN (per cold mode and I/O mode). */
function ratiosOf(results: SpannRow[], warmIo: PostingIoMode[], coldIo: PostingIoMode[], coldModes: string[], target: number): Record<string, unknown> {
  const sel = (f: (r: SpannRow) => boolean): SpannRow[] => results.filter(f);
  const spannWarm = sel((r) => r.index === 'spann' && r.mode === 'warm' && r.io === warmIo[0]);
  const faiss = sel((r) => r.index === 'faiss-ivfflat');
  const ratios: Record<string, unknown> = { warmVsFaiss: ratioAtRecall(spannWarm, faiss, target) };
  for (const m of warmIo.slice(1)) {
    ratios[`warm-${m}VsFaiss`] = ratioAtRecall(
      sel((r) => r.index === 'spann' && r.mode === 'warm' && r.io === m),
      faiss,
      target,
    );
  }
  for (const cm of coldModes) {
    const dk = sel((r) => r.index === 'diskann' && r.mode === cm);
    for (const m of coldIo)
      ratios[`${cm}-${m}VsDiskann`] = ratioAtRecall(
        sel((r) => r.index === 'spann' && r.mode === cm && r.io === m),
        dk,
        target,
      );
    ratios[`${cm}-bestIoVsDiskann`] = ratioAtRecall(
      sel((r) => r.index === 'spann' && r.mode === cm),
      dk,
      target,
    );
  }
  ratios.warmVsDiskannWarm = ratioAtRecall(
    spannWarm,
    sel((r) => r.index === 'diskann' && r.mode === 'warm'),
    target,
  );
  return ratios;
}

/**
 * `--reanalyze FILE.json`: recomputes the ratios (throughput and median latency) and the plot of
 * a result file from its rows (no measurement), for files written before a ratio was added.
 */
function reanalyze(file: string): void {
  const r = JSON.parse(readFileSync(file, 'utf8')) as {
    results: SpannRow[];
    tuning: { targetRecall: number };
    ratios: unknown;
    ratiosByMedianLatency?: unknown;
    dataset: { name: string; n: number; dim: number; reportedQueries: number };
  };
  const io = (mode: string): PostingIoMode[] => [...new Set(r.results.filter((x) => x.index === 'spann' && x.mode === mode).map((x) => x.io!))];
  const coldModes = [...new Set(r.results.filter((x) => x.mode !== 'warm').map((x) => x.mode))];
  const coldIo = [...new Set(r.results.filter((x) => x.index === 'spann' && x.mode !== 'warm').map((x) => x.io!))];
  r.ratios = ratiosOf(r.results, io('warm'), coldIo, coldModes, r.tuning.targetRecall);
  r.ratiosByMedianLatency = ratiosOf(
    r.results.map((x) => ({ ...x, qps: 1000 / x.p50Ms })),
    io('warm'),
    coldIo,
    coldModes,
    r.tuning.targetRecall,
  );
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  const d = r.dataset;
  writeSvg(
    file.replace(/\.json$/, '') + '.svg',
    spannChart(`${d.name}: ${d.n} x ${d.dim}, ${d.reportedQueries} reported queries (1 thread), SPANN warm / cold vs faiss IVF-Flat and DiskANN`, r.results),
  );
  log(`re-analysed ${file}: ${JSON.stringify(r.ratiosByMedianLatency)}`);
}

async function main(): Promise<void> {
  const ri = process.argv.indexOf('--reanalyze');
  if (ri >= 0) return reanalyze(process.argv[ri + 1]);
  const a = parseSpannArgs(process.argv.slice(2));
  const startMachine = machine();
  const started = Date.now();
  const d = loadData(a);
  const { dim, count: n } = d.base;
  const nq = d.queries.count;
  const nVal = Math.max(1, Math.floor(nq * a.valFraction));
  const nTest = nq - nVal;
  const k = a.k;
  log(`dataset ${d.name}: ${n} x ${dim}; ${nVal} validation + ${nTest} reported queries`);
  const nlists = a.nlists ?? [1, 2, 4, 8].map((f) => Math.max(1, Math.round(f * Math.sqrt(n))));
  const peerDir = join(d.dir, 'peers');
  const peerCommon = [
    '--base',
    d.files.base,
    '--cache',
    peerDir,
    '--k',
    String(k),
    '--seed',
    String(a.seed),
    '--diskann-r',
    String(a.diskannR),
    '--diskann-l',
    String(a.diskannL),
    '--memory-fraction',
    String(a.memoryFraction),
  ];

  // Untimed: builds (cached).
  const { index, buildSeconds } = await spannIndex(d);
  if (a.peers.length > 0) {
    log(`peers: prepare ${a.peers.join(', ')} (cached under ${peerDir})`);
    python(a, ['prepare', ...peerCommon, '--only', a.peers.join(','), '--nlists', nlists.join(','), '--threads', String(a.buildThreads)]);
  }
  if (a.prepareOnly) {
    log('prepared (--prepare-only)');
    index.close();
    return;
  }

  const valQ = d.queries.data.subarray(0, nVal * dim);
  const valTruth = d.truth.slice(0, nVal);
  const testQ = d.queries.data.subarray(nVal * dim);
  const testTruth = d.truth.slice(nVal);

  // Tuning on the validation queries only: recall per probe count, and the smallest probe count
  // reaching the target recall there (measured afterwards on the reported queries).
  const grid = [...new Set([...a.probes, ...Array.from({ length: 48 }, (_, i) => i + 1)])].sort((x, y) => x - y);
  const validation: Array<{ maxLists: number; recallAt10: number }> = [];
  let tuned: number | null = null;
  for (const p of grid) {
    const r = recallPass(index, valQ, dim, nVal, k, valTruth, { maxLists: p });
    validation.push({ maxLists: p, recallAt10: r });
    if (r >= a.targetRecall && tuned === null) tuned = p;
    if (tuned !== null && p >= Math.max(...a.probes)) break;
  }
  log(`validation: maxLists=${tuned} reaches recall ${a.targetRecall} on the held-out queries`);
  const probes = [...new Set([...a.probes, ...(tuned !== null ? [tuned] : [])])].sort((x, y) => x - y);

  const io = availableIoModes();
  const warmIo = a.warmIo.filter((m) => io.includes(m));
  const coldIo = a.coldIo.filter((m) => io.includes(m));
  const coldN = Math.min(nTest, 500);
  const best = new Map<string, SpannRow>();
  const keep = (r: SpannRow): void => {
    const key = `${r.index} ${r.mode} ${r.io ?? ''} ${JSON.stringify(r.params)}`;
    const prev = best.get(key);
    if (prev === undefined || r.qps > prev.qps) best.set(key, r);
  };
  const spannParams = index.params();
  const peerRun = (mode: string, only: string, count: number): SpannRow[] => {
    const out = python(a, [
      'run',
      ...peerCommon,
      '--query',
      d.files.query,
      '--gt',
      d.files.gt,
      '--from',
      String(nVal),
      '--to',
      String(nVal + count),
      '--only',
      only,
      '--mode',
      mode,
      '--nlists',
      nlists.join(','),
      '--nprobes',
      a.nprobes.join(','),
      '--diskann-ls',
      a.diskannLs.join(','),
      '--beams',
      a.beams.join(','),
      '--min-queries',
      String(a.minQueries),
    ]);
    const parsed = JSON.parse(out) as { results: SpannRow[]; versions: Record<string, string> };
    peerVersions = parsed.versions;
    return parsed.results;
  };
  let peerVersions: Record<string, string> = {};
  const page: Record<string, unknown> = {};

  // Timed rounds (hold the bench lock around this run): each round sweeps every index once.
  for (let round = 0; round < a.runs; round++) {
    log(`timed round ${round + 1}/${a.runs}`);
    for (const mode of warmIo) {
      index.setIoMode(mode);
      for (const p of probes) {
        const loop = queryLoop(index, testQ, dim, nTest, k, testTruth, { maxLists: p }, { runs: 1, minQueries: a.minQueries });
        const pc = index.pageCacheBytes();
        keep({
          index: 'spann',
          mode: 'warm',
          io: mode,
          params: { maxLists: p, tuned: p === tuned },
          recallAt10: loop.recall,
          qps: loop.qps,
          p50Ms: loop.p50Ms,
          p99Ms: loop.p99Ms,
          memoryBytes: index.memoryBytes(),
          pageCacheBytes: pc?.resident,
          postingFileBytes: pc?.size,
          buildSeconds,
          queries: nTest,
        });
      }
    }
    if (a.peers.includes('faiss')) peerRun('warm', 'faiss', nTest).forEach(keep);
    for (const cm of a.coldModes) {
      for (const mode of coldIo) {
        index.setIoMode(mode);
        for (const p of probes) {
          if (p < 2) continue;
          const c = coldLoop(index, testQ, dim, coldN, k, testTruth, { maxLists: p }, cm === 'cold-query', 1);
          keep({
            index: 'spann',
            mode: cm,
            io: mode,
            params: { maxLists: p, tuned: p === tuned, deviceBytesPerQuery: Math.round(c.bytesFromDevicePerQuery) },
            recallAt10: c.recall,
            qps: c.qps,
            p50Ms: c.p50Ms,
            p99Ms: c.p99Ms,
            memoryBytes: index.memoryBytes(),
            postingFileBytes: index.pageCacheBytes()?.size,
            buildSeconds,
            queries: coldN,
          });
        }
      }
      if (a.peers.includes('diskann')) peerRun(cm, 'diskann', coldN).forEach(keep);
    }
    if (a.peers.includes('diskann')) peerRun('warm', 'diskann', nTest).forEach(keep);
    index.setIoMode(warmIo[0] ?? 'pread');
  }
  // Page cache after a warm pass (what the warm figures rely on beyond memoryBytes).
  index.setIoMode(warmIo[0] ?? 'pread');
  queryLoop(index, testQ, dim, nTest, k, testTruth, { maxLists: tuned ?? 16 }, { runs: 1, minQueries: nTest });
  Object.assign(page, index.pageCacheBytes() ?? {});
  index.close();

  const results = [...best.values()];
  const raw = n * dim * 4;
  const ratios = ratiosOf(results, warmIo, coldIo, a.coldModes, a.targetRecall);
  // The same ratios on 1 / median latency: a cross-check of the throughput runs, which a shared
  // machine's load spikes disturb more than the median.
  const byMedian = ratiosOf(
    results.map((r) => ({ ...r, qps: 1000 / r.p50Ms })),
    warmIo,
    coldIo,
    a.coldModes,
    a.targetRecall,
  );
  const spannWarm = results.filter((r) => r.index === 'spann' && r.mode === 'warm' && r.io === warmIo[0]);
  const tunedRow = spannWarm.find((r) => r.params.tuned === true);
  const memoryRatio = (spannWarm[0]?.memoryBytes ?? NaN) / raw;
  const wf = ratios.warmVsFaiss as { ratio: number; reachedTarget: boolean } | null;
  const cq = (ratios['cold-query-bestIoVsDiskann'] ?? ratios['cold-bestIoVsDiskann']) as { ratio: number; reachedTarget: boolean } | null;
  const report = {
    command: `npm run bench:ann:spann -- ${process.argv.slice(2).join(' ')}`,
    date: new Date().toISOString(),
    machine: machine({ python: a.python }, startMachine),
    versions: { ...peerVersions },
    dataset: { name: d.name, n, dim, queries: nq, validationQueries: nVal, reportedQueries: nTest, coldQueries: coldN, k, metric: 'l2', files: d.files },
    spann: { params: spannParams, buildSeconds, ioModesAvailable: io, memoryBytes: spannWarm[0]?.memoryBytes, memoryVsRawVectors: memoryRatio, pageCacheAfterWarmPass: page },
    tuning: { targetRecall: a.targetRecall, tunedMaxLists: tuned, validation, tunedOnReported: tunedRow ? { maxLists: tuned, recallAt10: tunedRow.recallAt10, qps: tunedRow.qps } : null },
    results,
    ratios,
    ratiosByMedianLatency: byMedian,
    targets: {
      spannMemoryAtMost25PctRaw: memoryRatio <= 0.25,
      warmQpsAtLeastFaiss: wf ? wf.reachedTarget && wf.ratio >= 1 : null,
      coldQpsAtLeastDiskann: cq ? cq.reachedTarget && cq.ratio >= 1 : null,
    },
    notes: [
      `Queries 0..${nVal - 1} are the validation split (tuning only); every reported figure is on queries ${nVal}..${nq - 1}.`,
      'warm: 50-query warm-up, the reported queries repeated to >= --min-queries, one query at a time on one thread; best of --runs rounds (rounds alternate SPANN and the Python peers).',
      `cold: posting file (DiskANN: ann_disk.index) dropped from the page cache (fdatasync + posix_fadvise DONTNEED) before the timed pass; cold-query: before every query (drop not timed); ${coldN} reported queries, no warm-up.`,
      'DiskANN reads its disk index with O_DIRECT (no page cache), so its warm and cold runs read the device alike; num_nodes_to_cache = 0, PQ codes in RAM at --memory-fraction of the raw vectors.',
      'spann memoryBytes counts everything SPANN keeps in process memory (centroids + graph, posting table, id tables, read buffer, scratch); pageCacheBytes the posting-file pages the OS holds (mincore), which warm runs rely on.',
    ],
    elapsedSeconds: (Date.now() - started) / 1000,
  };
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify(report, null, 2) + '\n');
  const svg = a.out.replace(/\.json$/, '') + '.svg';
  writeSvg(svg, spannChart(`${d.name}: ${n} x ${dim}, ${nTest} reported queries (1 thread), SPANN warm / cold vs faiss IVF-Flat and DiskANN`, results));
  log(`wrote ${a.out} and ${svg}`);
  log(`ratios ${JSON.stringify(ratios)}`);
}

runMain(main);
