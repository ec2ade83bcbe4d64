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
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ALL_APPS } from '../../apps/suite/apps';
import { EventPublisher } from '@recsys/messaging';
import { createInfra, createLogger, loadConfig, startSuite } from '@recsys/platform';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const out = arg('out', 'bench/results/freshness.json');
const brokers = arg('brokers', '127.0.0.1:19092');
const redis = arg('redis', 'redis://127.0.0.1:16379');
const database = arg('database', 'postgres://recsys:recsys@127.0.0.1:15432/recsys');
const catalog = Number(arg('catalog', '20000'));
const probes = Number(arg('probes', '200'));
const dim = Number(arg('dim', '64'));

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

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function measure(mode: 'kafka' | 'inprocess') {
  const prefix = `fresh-${Date.now().toString(36)}.`;
  const env: Record<string, string> = { APPS: 'retrieval', RETRIEVAL_PORT: '0', LOG_LEVEL: 'warn', RETRIEVAL_METRIC: 'l2', DATA_DIR: mkdtempSync(join(tmpdir(), 'fresh-')), KAFKA_TOPIC_PREFIX: prefix };
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

function svg(results: Awaited<ReturnType<typeof measure>>[]) {
  const w = 520;
  const h = 60 + results.length * 70;
  const max = Math.max(1000, ...results.map((r) => r.maxMs));
  const x = (ms: number) => 120 + (ms / max) * (w - 160);
  const rows = results
    .map((r, i) => {
      const y = 50 + i * 70;
      return `<text x="10" y="${y + 14}" font-size="13">${r.adapter}</text>
<rect x="120" y="${y}" width="${x(r.p50Ms) - 120}" height="18" fill="#4c78a8"/><text x="${x(r.p50Ms) + 4}" y="${y + 14}" font-size="11">p50 ${r.p50Ms} ms</text>
<rect x="120" y="${y + 24}" width="${x(r.p99Ms) - 120}" height="18" fill="#f58518"/><text x="${x(r.p99Ms) + 4}" y="${y + 38}" font-size="11">p99 ${r.p99Ms} ms</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<text x="10" y="22" font-size="15">Produce-to-searchable latency (target: 1 s, dashed)</text>
<line x1="${x(1000)}" y1="35" x2="${x(1000)}" y2="${h - 5}" stroke="#c00" stroke-dasharray="4 3"/>
${rows}
</svg>`;
}

async function main() {
  const results = [await measure('kafka'), await measure('inprocess')];
  const doc = {
    command: `node dist/bench/retrieval/bench-freshness.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg: loadavg() },
    dataset: { name: 'synthetic uniform vectors', catalog, dim, probes },
    results,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2));
  writeFileSync(out.replace(/\.json$/, '.svg'), svg(results));
  console.log(JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
