/**
 * Catalogue freshness: time from producing an item upsert to Kafka (plain kafkajs producer, as an
 * external catalog publisher would) until POST /v1/candidates returns it, through the real
 * retrieval app (HNSW, real Kafka + Redis + PostgreSQL). The same measurement runs on the
 * embedded log in the same run as the baseline.
 *
 *   npm run build && node dist/bench/retrieval/bench-freshness.js --out bench/results/freshness.json \
 *     [--brokers 127.0.0.1:19092] [--redis redis://127.0.0.1:16379] [--database postgres://recsys:recsys@127.0.0.1:15432/recsys] \
 *     [--catalog 20000] [--probes 200] [--dim 64]
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ALL_APPS } from '../../apps/suite/apps';
import { EventPublisher } from '@recsys/messaging';
import { createInfra, createLogger, loadConfig, startSuite } from '@recsys/platform';
import { cli, int, runMain } from '../common/cli';
import { machine } from '../common/machine';
import { writeSvg, type Chart } from '../common/plot';
import { quantile } from '../common/stats';

const USAGE = `usage: node dist/bench/retrieval/bench-freshness.js [--out bench/results/freshness.json] [--brokers 127.0.0.1:19092]
  [--redis redis://127.0.0.1:16379] [--database postgres://recsys:recsys@127.0.0.1:15432/recsys] [--catalog 20000] [--probes 200] [--dim 64]`;
const opts = cli(
  process.argv.slice(2),
  {
    out: { type: 'string', default: 'bench/results/freshness.json' },
    brokers: { type: 'string', default: '127.0.0.1:19092' },
    redis: { type: 'string', default: 'redis://127.0.0.1:16379' },
    database: { type: 'string', default: 'postgres://recsys:recsys@127.0.0.1:15432/recsys' },
    catalog: { type: 'string' },
    probes: { type: 'string' },
    dim: { type: 'string' },
  },
  USAGE,
);
const { out, brokers, redis, database } = opts;
const catalog = int(opts.catalog, '--catalog', 20000);
const probes = int(opts.probes, '--probes', 200);
const dim = int(opts.dim, '--dim', 64);

function vector(i: number): number[] {
  let s = (i * 2654435761) >>> 0;
  return Array.from({ length: dim }, () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

const upsert = (i: number) => ({
  eventId: `fresh-${i}`,
  key: `item-${i}`,
  timestamp: Date.now(),
  schemaVersion: 1 as const,
  op: 'upsert' as const,
  namespace: 'items',
  itemId: `item-${i}`,
  embedding: vector(i),
});

/** Percentile p (0..100), the benchmarks' one definition (bench/common/stats.ts). */
const pct = (xs: number[], p: number) => quantile(xs, p / 100);

async function measure(mode: 'kafka' | 'inprocess') {
  const prefix = `fresh-${Date.now().toString(36)}.`;
  const env: Record<string, string> = {
    APPS: 'retrieval',
    RETRIEVAL_PORT: '0',
    LOG_LEVEL: 'warn',
    RETRIEVAL_METRIC: 'l2',
    NAMESPACE_DIMS: `items:${dim}`,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'fresh-')),
    KAFKA_TOPIC_PREFIX: prefix,
  };
  if (mode === 'kafka') Object.assign(env, { KAFKA_BROKERS: brokers, REDIS_URL: redis, DATABASE_URL: database, STATE_PREFIX: prefix });
  const config = loadConfig(env);
  const log = createLogger('warn');
  const infra = await createInfra(config, log);
  const suite = await startSuite(config, ALL_APPS, log, infra);
  const url = suite.apps[0].url;
  const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'freshness', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const publisher = new EventPublisher(infra.bus);
  const send = async (events: ReturnType<typeof upsert>[]) => {
    if (mode === 'kafka') await producer.send({ topic: `${prefix}catalog.items`, messages: events.map((e) => ({ key: e.key, value: JSON.stringify(e) })) });
    else await publisher.publish('catalog.items', events);
  };
  if (mode === 'kafka') await producer.connect();
  process.stderr.write(`[${mode}] loading ${catalog} items...\n`);
  for (let i = 0; i < catalog; i += 1000) await send(Array.from({ length: Math.min(1000, catalog - i) }, (_, j) => upsert(i + j)));
  for (;;) {
    const info = (await (await fetch(`${url}/v1/indexes`)).json()) as { indexes: { size: number }[] };
    if (info.indexes[0]?.size === catalog) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const latencies: number[] = [];
  for (let p = 0; p < probes; p++) {
    const id = catalog + p;
    const t0 = performance.now();
    await send([upsert(id)]);
    for (;;) {
      const res = await fetch(`${url}/v1/candidates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ k: 1, vector: vector(id) }) });
      const hits = (await res.json()) as { itemId: string }[];
      if (hits[0]?.itemId === `item-${id}`) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    latencies.push(performance.now() - t0);
    if ((p + 1) % 50 === 0) process.stderr.write(`[${mode}] ${p + 1}/${probes} probes\n`);
  }
  if (mode === 'kafka') await producer.disconnect();
  await suite.close();
  await infra.close();
  return {
    adapter: mode,
    probes,
    catalogSize: catalog,
    p50Ms: +pct(latencies, 50).toFixed(1),
    p99Ms: +pct(latencies, 99).toFixed(1),
    maxMs: +Math.max(...latencies).toFixed(1),
    withinOneSecond: latencies.filter((l) => l <= 1000).length / latencies.length,
  };
}

function chart(results: Awaited<ReturnType<typeof measure>>[]): Chart {
  return {
    title: 'Produce-to-searchable latency (target: 1 s, dashed)',
    width: 560,
    height: 380,
    panels: [
      {
        x: { name: 'event bus', type: 'category' },
        // the 1 s target stays in view
        y: { name: 'latency', unit: ' ms', min: 0, max: Math.ceil(Math.max(1100, ...results.map((r) => r.p99Ms * 1.1)) / 100) * 100 },
        series: [
          { name: 'p50', kind: 'bar', points: results.map((r) => ({ x: r.adapter, y: r.p50Ms, label: `${r.p50Ms} ms` })) },
          { name: 'p99', kind: 'bar', points: results.map((r) => ({ x: r.adapter, y: r.p99Ms, label: `${r.p99Ms} ms` })) },
        ],
        lines: [{ axis: 'y', value: 1000, label: 'target 1 s' }],
      },
    ],
  };
}

async function main() {
  const start = machine();
  const results = [await measure('kafka'), await measure('inprocess')];
  const doc = {
    command: `node dist/bench/retrieval/bench-freshness.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine({}, start),
    dataset: { name: 'synthetic uniform vectors', catalog, dim, probes },
    results,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2));
  writeSvg(out.replace(/\.json$/, '.svg'), chart(results));
  console.log(JSON.stringify(results, null, 2));
}

runMain(main);
