/**
 * bench:rank — serving latency of the ranking path for 100, 500 and 1000 candidates on one and two
 * ONNX Runtime intra-op threads, with feature assembly (state read + SDIM interest + tensors) and
 * the model run timed separately, in process (no HTTP); then the same end to end through the
 * ranking app's HTTP API (one sequential client in the same process).
 *
 *   npm run bench:rank -- --out bench/results/rank.json [--model DIR | --train | --synthetic]
 *     [--data DIR] [--iterations 500] [--items 10000] [--users 200] [--history 200] [--no-http]
 *
 * Model: --model DIR reads DIR/model.onnx, DIR/feature-spec.json and DIR/catalog.jsonl (the training
 * CLI's output); --train runs the training CLI first (ops/training, $TRAINING_PYTHON, CONTRACT.md
 * section 5) on --data (MovieLens format; default: its seeded synthetic set); --synthetic uses the
 * TypeScript-built model of the same inputs and outputs (apps/ranking/src/testing). Default: --train
 * when the training CLI and its Python are present, else --synthetic. The JSON says which.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ALL_APPS } from '../../apps/suite/apps';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { stateKeys } from '@recsys/contracts/state-keys';
import { OnnxModelRunner } from '@recsys/infra/model-runner/model-runner.onnx.adapter';
import { OnnxWorkerModelRunner } from '@recsys/infra/model-runner/model-runner.onnx-worker.adapter';
import type { ModelRunner } from '@recsys/infra/model-runner/model-runner.port';
import { MemoryStateStore } from '@recsys/infra/state-store/state-store.memory.adapter';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { EventPublisher } from '@recsys/messaging';
import { createLogger, loadConfig, startSuite } from '@recsys/platform';
import { FeatureAssembler, ItemFeatureTable, parseFeatureSpec, type FeatureSpec, type ItemInput } from '@recsys/ranking';
import { BucketTables, encodeTables, hasherFor } from '@recsys/sdim';
import { cli, int, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg } from '../common/plot';
import { quantile } from '../common/stats';
import { rankChart } from './plot';

const USAGE = `usage: npm run bench:rank -- [--out bench/results/rank.json] [--model DIR | --train | --synthetic]
  [--data DIR] [--iterations 500] [--items 10000] [--users 200] [--history 200] [--no-http]`;
const argv = process.argv.slice(2);
const opts = cli(
  argv,
  {
    out: { type: 'string', default: 'bench/results/rank.json' },
    model: { type: 'string' },
    train: { type: 'boolean', default: false },
    synthetic: { type: 'boolean', default: false },
    data: { type: 'string', default: '' },
    iterations: { type: 'string' },
    items: { type: 'string' },
    users: { type: 'string' },
    history: { type: 'string' },
    'no-http': { type: 'boolean', default: false },
  },
  USAGE,
);
const root = resolve(__dirname, '../../..');
const out = opts.out;
const iterations = int(opts.iterations, '--iterations', 500);
const warmup = Math.max(20, Math.floor(iterations / 10));
const catalogSize = int(opts.items, '--items', 10000);
const userCount = int(opts.users, '--users', 200);
const historyLength = int(opts.history, '--history', 200);
const CANDIDATES = [100, 500, 1000];
const THREADS = [1, 2];
const TARGET_MS = 15;

interface ModelSource {
  source: 'training-cli' | 'dir' | 'synthetic';
  path?: string;
  bytes: Buffer;
  spec: FeatureSpec;
  catalog: ItemInput[];
  note: string;
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readModelDir(dir: string, source: ModelSource['source'], note: string): ModelSource {
  const spec = parseFeatureSpec(JSON.parse(readFileSync(join(dir, 'feature-spec.json'), 'utf8')));
  const catalog: ItemInput[] = [];
  const cat = join(dir, 'catalog.jsonl');
  if (existsSync(cat)) {
    for (const line of readFileSync(cat, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line);
      if (e.op !== 'upsert' || !e.embedding) continue;
      catalog.push({ itemId: e.itemId, embedding: e.embedding, genres: e.attributes?.genres ?? [], year: typeof e.attributes?.year === 'number' ? e.attributes.year : undefined });
    }
  }
  return { source, path: dir, bytes: readFileSync(join(dir, 'model.onnx')), spec, catalog, note };
}

function trainModel(): ModelSource {
  const python = process.env.TRAINING_PYTHON ?? join(root, '.venv-training/bin/python');
  const work = mkdtempSync(join(tmpdir(), 'bench-rank-'));
  let data = opts.data;
  const run = (args: string[]) => execFileSync('nice', ['-n', '10', python, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!data) {
    data = join(work, 'data');
    run(['-m', 'ops.training.synth', '--out', data, '--seed', '0']);
  }
  const model = join(work, 'model');
  run(['-m', 'ops.training.train', '--data', data, '--model', 'adaptdhm', '--epochs', '1', '--seed', '0', '--out', model]);
  const src = readModelDir(model, 'training-cli', `AdaptDHM trained by the training CLI (1 epoch, seed 0) on ${opts.data || 'its seeded synthetic MovieLens-format set'}`);
  rmSync(work, { recursive: true, force: true });
  return { ...src, path: undefined };
}

function chooseModel(): ModelSource {
  if (opts.model !== undefined) return readModelDir(resolve(opts.model), 'dir', `model directory ${opts.model}`);
  const canTrain = existsSync(join(root, 'ops/training/train.py')) && existsSync(process.env.TRAINING_PYTHON ?? join(root, '.venv-training/bin/python'));
  if (opts.train || (!opts.synthetic && canTrain)) return trainModel();
  const { bytes, spec } = syntheticCtrModel();
  return {
    source: 'synthetic',
    bytes,
    spec,
    catalog: [],
    note: 'TypeScript-built model with the contract inputs/outputs and random weights (id tables 2048+4096 x 16, MLP 164-128-64, 4 routed towers of width 32); the training CLI was not available',
  };
}

/** The model's catalog, filled up with synthetic items to `catalogSize`; genres from the spec. */
function buildCatalog(src: ModelSource): ItemInput[] {
  const r = rng(42);
  const d = src.spec.embedding.dim;
  const genres = src.spec.itemDense.genres;
  const items = [...src.catalog];
  for (let i = items.length; i < catalogSize; i++) {
    items.push({
      itemId: `bench-item-${i}`,
      embedding: Array.from({ length: d }, () => Math.round((r() * 2 - 1) * 0.5 * 65536) / 65536),
      genres: [genres[Math.floor(r() * genres.length)], genres[Math.floor(r() * genres.length)]],
      year: r() < 0.9 ? 1920 + Math.floor(r() * 80) : undefined,
    });
  }
  return items;
}

async function seedUsers(state: StateStore, spec: FeatureSpec, items: ItemInput[]): Promise<string[]> {
  const r = rng(7);
  const hasher = hasherFor(spec.sdim);
  const users: string[] = [];
  for (let u = 0; u < userCount; u++) {
    const t = new BucketTables(hasher);
    for (let j = 0; j < historyLength; j++) t.add(Float32Array.from(items[Math.floor(r() * items.length)].embedding));
    const id = `bench-user-${u}`;
    await state.set(stateKeys.userSdimTables(id), encodeTables(t));
    users.push(id);
  }
  return users;
}

/** Candidate lists drawn up front (not timed): catalog items plus 1% unknown ids. */
function candidateLists(items: ItemInput[], n: number, count: number, seed: number): string[][] {
  const r = rng(seed);
  return Array.from({ length: count }, (_, q) => Array.from({ length: n }, (_, i) => (r() < 0.01 ? `unknown-${q}-${i}` : items[Math.floor(r() * items.length)].itemId)));
}

/** Percentile p (0..100), the benchmarks' one definition (bench/common/stats.ts). */
const pct = (xs: number[], p: number) => quantile(xs, p / 100);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

type Isolation = 'worker' | 'inline';
const runnerFor = (isolation: Isolation): ModelRunner => (isolation === 'worker' ? new OnnxWorkerModelRunner() : new OnnxModelRunner());

async function inProcess(src: ModelSource, items: ItemInput[], isolation: Isolation) {
  const state = new MemoryStateStore();
  const users = await seedUsers(state, src.spec, items);
  const hasher = hasherFor(src.spec.sdim);
  const table = new ItemFeatureTable(hasher);
  for (const it of items) table.upsert(it);
  const lookup = (id: string) => table.get(id);
  const assembler = new FeatureAssembler(src.spec, hasher);
  const domains = src.spec.domains;
  const results = [];
  const loads: Record<number, number> = {};
  for (const threads of THREADS) {
    const t = performance.now();
    const session = await runnerFor(isolation).load(src.bytes, { intraOpThreads: threads });
    loads[threads] = r3(performance.now() - t);
    for (const n of CANDIDATES) {
      const lists = candidateLists(items, n, warmup + iterations, n * 31 + threads);
      const feature: number[] = [];
      const model: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < warmup + iterations; i++) {
        const userId = users[i % users.length];
        const t0 = performance.now();
        const tables = await state.get(stateKeys.userSdimTables(userId));
        const f = assembler.assemble({ userId, domain: domains[i % domains.length], itemIds: lists[i], tables }, lookup);
        const t1 = performance.now();
        const o = await session.run(f.feeds, ['pctr']);
        const t2 = performance.now();
        const p = o.pctr.data as Float32Array;
        // What the service does after the model: order the candidates.
        Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
        const t3 = performance.now();
        if (i < warmup) continue;
        feature.push(t1 - t0);
        model.push(t2 - t1);
        total.push(t3 - t0);
      }
      const sum = total.reduce((a, b) => a + b, 0);
      const row = {
        candidates: n,
        threads,
        p50Ms: r3(pct(total, 50)),
        p99Ms: r3(pct(total, 99)),
        scoresPerSecond: Math.round((n * total.length) / (sum / 1000)),
        featureMs: r3(pct(feature, 50)),
        modelMs: r3(pct(model, 50)),
        featureP99Ms: r3(pct(feature, 99)),
        modelP99Ms: r3(pct(model, 99)),
        iterations,
      };
      process.stderr.write(`in-process ${isolation} ${JSON.stringify(row)}\n`);
      results.push(row);
    }
    await session.release();
  }
  return { results, loadMs: loads };
}

/**
 * A sequential HTTP client on a worker thread (its own event loop, so the client's fetch and JSON
 * work does not run on the server's loop): latency of each request after the warm-up ones.
 */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { url, bodies, warmup } = workerData;
  const latencies = [];
  let scored = 0;
  for (let i = 0; i < bodies.length; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i] });
    const ranked = await res.json();
    const t1 = performance.now();
    if (res.status !== 200) throw new Error('rank: ' + res.status + ' ' + JSON.stringify(ranked));
    if (i < warmup) continue;
    latencies.push(t1 - t0);
    scored += ranked.length;
  }
  parentPort.postMessage({ latencies, scored });
})().catch((e) => { throw e; });
`;

function clientInWorker(url: string, bodies: string[], warmup: number): Promise<{ latencies: number[]; scored: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: { url, bodies, warmup } });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

/** The same through POST /v1/rank of the ranking app (embedded adapters), one sequential client. */
async function overHttp(src: ModelSource, items: ItemInput[]) {
  const results = [];
  for (const threads of THREADS) {
    const config = loadConfig({
      APPS: 'ranking',
      RANKING_PORT: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-rank-app-')),
      RANKING_INTRA_OP_THREADS: String(threads),
      RANKING_MODEL_ISOLATION: 'worker',
      RANKING_MODEL_NAME: src.spec.model.name,
      SDIM_SEED: String(src.spec.sdim.seed),
      SDIM_M: String(src.spec.sdim.m),
      SDIM_TAU: String(src.spec.sdim.tau),
      EMBEDDING_DIM: String(src.spec.embedding.dim),
    });
    const suite = await startSuite(config, ALL_APPS, createLogger('warn'));
    try {
      const url = suite.apps[0].url;
      const name = src.spec.model.name;
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return res;
      };
      await post(`/v1/models/${name}/versions/bench`, { artifactBase64: src.bytes.toString('base64'), featureSpec: src.spec });
      await post(`/v1/models/${name}/versions/bench/promote`, { to: 'live' });
      const publisher = new EventPublisher(suite.infra.bus);
      for (let i = 0; i < items.length; i += 1000) {
        await publisher.publish(
          'catalog.items',
          items.slice(i, i + 1000).map((it, j) => ({
            eventId: `bench-${i + j}`,
            key: it.itemId,
            timestamp: Date.now(),
            schemaVersion: 1 as const,
            op: 'upsert' as const,
            namespace: 'items',
            itemId: it.itemId,
            embedding: Array.from(it.embedding),
            attributes: { genres: [...(it.genres ?? [])], ...(it.year !== undefined ? { year: it.year } : {}) },
          })),
        );
      }
      for (;;) {
        const s = (await (await fetch(`${url}/v1/status`)).json()) as { catalog: { items: number } };
        if (s.catalog.items >= new Set(items.map((x) => x.itemId)).size) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const users = await seedUsers(suite.infra.state, src.spec, items);
      for (const n of CANDIDATES) {
        const lists = candidateLists(items, n, warmup + iterations, n * 17 + threads);
        const bodies = lists.map((candidates, i) => JSON.stringify({ userId: users[i % users.length], domain: src.spec.domains[i % src.spec.domains.length], candidates }));
        const { latencies, scored } = await clientInWorker(`${url}/v1/rank`, bodies, warmup);
        const sum = latencies.reduce((a, b) => a + b, 0);
        const row = { candidates: n, threads, p50Ms: r3(pct(latencies, 50)), p99Ms: r3(pct(latencies, 99)), scoresPerSecond: Math.round(scored / (sum / 1000)), iterations };
        process.stderr.write(`http ${JSON.stringify(row)}\n`);
        results.push(row);
      }
    } finally {
      await suite.close();
    }
  }
  return results;
}

async function main() {
  const src = chooseModel();
  const items = buildCatalog(src);
  process.stderr.write(`model: ${src.source} (${src.bytes.length} bytes, ${src.spec.model.kind}); ${items.length} items, ${userCount} users x ${historyLength} clicks\n`);
  const start = machine();
  const ip = await inProcess(src, items, 'worker');
  const inline = await inProcess(src, items, 'inline');
  const http = opts['no-http'] ? [] : await overHttp(src, items);
  const at500 = ip.results.find((r) => r.candidates === 500 && r.threads === 1)!;
  const report = {
    command: `npm run bench:rank -- ${argv.join(' ')}`.trim(),
    machine: machine({}, start),
    model: {
      source: src.source,
      note: src.note,
      path: src.path,
      bytes: src.bytes.length,
      kind: src.spec.model.kind,
      routingDim: src.spec.model.routingDim,
      inputs: src.spec.inputs.map((i) => i.name),
      loadMs: { worker: ip.loadMs, inline: inline.loadMs },
    },
    isolation:
      'results: each model session in its own worker thread (RANKING_MODEL_ISOLATION=worker, the default); inline.results: the session on the calling thread. Feature assembly always runs on the calling thread.',
    workload: {
      catalogItems: items.length,
      fromModelCatalog: src.catalog.length,
      users: userCount,
      historyClicks: historyLength,
      unknownCandidateShare: 0.01,
      sdim: src.spec.sdim,
      iterations,
      warmup,
      featureMs: 'median time to read the user tables from the state store (in-memory adapter) and assemble every input tensor',
      modelMs: 'median ONNX Runtime run time (pctr only)',
      p50Ms: 'end to end in process: features + model + sorting the candidates',
    },
    target: { p99MsAt500Candidates1Thread: at500.p99Ms, limitMs: TARGET_MS, met: at500.p99Ms <= TARGET_MS },
    results: ip.results,
    inline: { results: inline.results },
    http: {
      note: 'POST /v1/rank through the ranking app (embedded adapters), one sequential client on a worker thread of the same process; scoresPerSecond counts distinct candidates (the service scores duplicates once)',
      results: http,
    },
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  const svg = out.replace(/\.json$/, '') + '.svg';
  writeSvg(
    svg,
    rankChart(
      ip.results,
      'bench:rank: serving latency per request (in process, model in a worker thread)',
      `${src.source} model (${src.spec.model.kind}, ${(src.bytes.length / 1024).toFixed(0)} KiB), ${cpus().length} cpus, bars: 1 and 2 intra-op threads`,
      TARGET_MS,
    ),
  );
  process.stderr.write(`wrote ${out} and ${svg}\n`);
}

runMain(main);
