import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOPICS } from '@recsys/contracts';
import { OnnxModelRunner } from '@recsys/infra/model-runner/model-runner.onnx.adapter';
import type { TensorData } from '@recsys/infra/model-runner/model-runner.port';
import { EventPublisher } from '@recsys/messaging';
import { FeatureAssembler, ItemFeatureTable, itemAttributes, parseFeatureSpec, type FeatureSpec } from '@recsys/ranking';
import { hasherFor, readUserTables } from '@recsys/sdim';
import { realInfra, uniqueName } from '../support/infra';
import { eventually, getJson, postJson, startTestSuite } from '../support/suite';
import { promote, registerModel } from './ranking.flow';

/**
 * Python -> ONNX -> Node, end to end: the training CLI (ops/training, CONTRACT.md section 5) makes a
 * seeded data set and trains AdaptDHM; the exported model is registered through the HTTP API and
 * promoted live; its catalog (catalog.jsonl) and the users' clicks go through the bus into the
 * behavior and ranking services on real Kafka, Redis and PostgreSQL. For the held-out rows of
 * parity.json the test then checks:
 *  - the model in Node's ONNX Runtime on Python's features gives Python ONNX Runtime's outputs;
 *  - the features the TypeScript side assembles (catalog from the bus, SDIM tables the behavior
 *    service wrote) equal Python's: integers exactly, floats within 1e-6;
 *  - POST /v1/rank returns Python ONNX Runtime's pctr for those rows.
 * Fails (never skips) when the training Python environment is missing.
 */
const root = resolve(__dirname, '../..');
const python = process.env.TRAINING_PYTHON ?? join(root, '.venv-training/bin/python');
const TOL_OUTPUT = 1e-5;
const TOL_FEATURE = 1e-6;

interface ParityRow {
  userId: string;
  itemId: string;
  domain: string;
  timestamp: number;
  features: Record<string, number | number[]>;
  onnx: { pctr: number; routing: number[] };
}

function train(work: string) {
  if (!existsSync(python)) {
    throw new Error(`training Python not found at ${python}: run 'bash ops/training/setup-venv.sh' (or set TRAINING_PYTHON); this spec never skips`);
  }
  const run = (args: string[]) => execFileSync('nice', ['-n', '10', python, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  run(['-m', 'ops.training.synth', '--out', join(work, 'data'), '--users', '200', '--items', '300', '--ratings', '20000', '--seed', '0']);
  run(['-m', 'ops.training.train', '--data', join(work, 'data'), '--model', 'adaptdhm', '--epochs', '1', '--seed', '0', '--out', join(work, 'out')]);
}

describe('ranking: a model trained in Python, exported to ONNX, served by Node (integration)', () => {
  const real = realInfra();
  const prefix = `${uniqueName('rk-train')}.`;
  const modelName = uniqueName('ctr').replace(/[^A-Za-z0-9._-]/g, '');
  const work = mkdtempSync(join(tmpdir(), 'ranking-training-'));
  let suite: Awaited<ReturnType<typeof startTestSuite>>;
  let spec: FeatureSpec;
  let model: Buffer;
  let rows: ParityRow[];
  let catalog: { itemId: string; embedding: number[]; attributes?: Record<string, unknown> }[];
  let publisher: EventPublisher;

  beforeAll(async () => {
    train(work);
    const out = join(work, 'out');
    model = readFileSync(join(out, 'model.onnx'));
    spec = parseFeatureSpec(JSON.parse(readFileSync(join(out, 'feature-spec.json'), 'utf8')));
    rows = JSON.parse(readFileSync(join(out, 'parity.json'), 'utf8')).rows;
    catalog = readFileSync(join(out, 'catalog.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(rows.length >= 10, `parity.json has ${rows.length} rows`);
    suite = await startTestSuite({
      APPS: 'behavior,ranking',
      KAFKA_BROKERS: real.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      REDIS_URL: real.redisUrl,
      DATABASE_URL: real.databaseUrl,
      STATE_PREFIX: prefix,
      RANKING_MODEL_NAME: modelName,
      EMBEDDING_DIM: String(spec.embedding.dim),
      SDIM_SEED: String(spec.sdim.seed),
      SDIM_M: String(spec.sdim.m),
      SDIM_TAU: String(spec.sdim.tau),
      BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: '2000',
    });
    publisher = new EventPublisher(suite.infra.bus);
  }, 900_000); // training in Python takes minutes on a busy 2-core machine (its own limit is 600 s)
  afterAll(async () => {
    await suite?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("Node's ONNX Runtime reproduces Python ONNX Runtime's outputs on Python's features", async () => {
    const session = await new OnnxModelRunner().load(model);
    try {
      const n = rows.length;
      const col = (name: string) => rows.map((r) => r.features[name]);
      const i64 = (name: string): TensorData => ({ dtype: 'int64', data: BigInt64Array.from(col(name) as number[], (v) => BigInt(v)), dims: [n] });
      const f32 = (name: string, w: number): TensorData => ({ dtype: 'float32', data: Float32Array.from((col(name) as number[][]).flat()), dims: [n, w] });
      const d = spec.embedding.dim;
      const out = await session.run({
        user_bucket: i64('user_bucket'),
        item_bucket: i64('item_bucket'),
        domain: i64('domain'),
        item_dense: f32('item_dense', spec.itemDense.genres.length + 1),
        item_emb: f32('item_emb', d),
        sdim_interest: f32('sdim_interest', d),
      });
      const pctr = out.pctr.data as Float32Array;
      const routing = out.routing.data as Float32Array;
      const K = spec.model.routingDim;
      let max = 0;
      rows.forEach((r, i) => {
        max = Math.max(max, Math.abs(pctr[i] - r.onnx.pctr));
        r.onnx.routing.forEach((v, k) => (max = Math.max(max, Math.abs(routing[i * K + k] - v))));
      });
      assert.ok(max <= TOL_OUTPUT, `max |node - python| = ${max}`);
    } finally {
      await session.release();
    }
  });

  it('registered through the API, fed through the bus: features and POST /v1/rank scores equal Python on the parity rows', async () => {
    const url = suite.url('ranking');
    const metrics = JSON.parse(readFileSync(join(work, 'out', 'metrics.json'), 'utf8'));
    const reg = await registerModel(url, modelName, 'py-1', model, spec, metrics);
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    await promote(url, modelName, 'py-1', 'live');

    // The catalog exactly as the training pipeline published it (catalog.jsonl is catalog.items events).
    await publisher.publish(TOPICS.catalogItems, catalog as never);
    await eventually(async () => (await getJson(`${url}/v1/status`)).body.catalog.items >= catalog.length, 60_000, 50);

    // Our own view of the items, to assemble features outside the service.
    const hasher = hasherFor(spec.sdim);
    const items = new ItemFeatureTable(hasher);
    for (const c of catalog) items.upsert({ itemId: c.itemId, embedding: c.embedding, ...itemAttributes(c.attributes) });
    const assembler = new FeatureAssembler(spec, hasher);

    // Every click of the data set (rating >= 4), per user in time order: the history of a row is
    // its user's clicks strictly before the row (features.py).
    const clicks = new Map<string, { itemId: string; ts: number; line: number }[]>();
    readFileSync(join(work, 'data', 'u.data'), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const [u, it, rating, ts] = line.split('\t');
        if (!line.trim() || Number(rating) < 4) return;
        if (!clicks.has(u)) clicks.set(u, []);
        clicks.get(u)!.push({ itemId: it, ts: Number(ts), line: i });
      });
    for (const list of clicks.values()) list.sort((a, b) => a.ts - b.ts || a.line - b.line);

    const byUser = new Map<string, ParityRow[]>();
    for (const r of rows) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    let maxFeature = 0;
    let maxScore = 0;
    let checked = 0;
    for (const [userId, userRows] of byUser) {
      userRows.sort((a, b) => a.timestamp - b.timestamp);
      const history = clicks.get(userId) ?? [];
      let published = 0;
      for (const row of userRows) {
        const prefix = history.filter((c) => c.ts < row.timestamp).length;
        if (prefix > published) {
          await publisher.publish(
            TOPICS.userBehaviors,
            history
              .slice(published, prefix)
              .map((c) => ({ eventId: `py-${userId}-${c.line}`, key: userId, timestamp: c.ts * 1000, schemaVersion: 1 as const, userId, itemId: c.itemId, type: 'click' as const })),
          );
          published = prefix;
        }
        await eventually(async () => (await getJson(`${suite.url('behavior')}/v1/users/${encodeURIComponent(userId)}/history?limit=1`)).body.total === published, 60_000, 50);

        // Features: the TypeScript assembly on the service's inputs equals Python's row.
        const tables = await readUserTables(suite.infra.state, userId);
        const f = assembler.assemble({ userId, domain: row.domain, itemIds: [row.itemId], tables }, (id) => items.get(id));
        for (const name of ['user_bucket', 'item_bucket', 'domain'] as const) {
          assert.equal(Number((f.feeds[name].data as BigInt64Array)[0]), row.features[name], `${name} of ${userId}/${row.itemId}`);
        }
        for (const name of ['item_dense', 'item_emb', 'sdim_interest'] as const) {
          const want = row.features[name] as number[];
          const got = f.feeds[name].data as Float32Array;
          assert.equal(got.length, want.length, name);
          want.forEach((v, k) => (maxFeature = Math.max(maxFeature, Math.abs(got[k] - v))));
        }
        assert.ok(maxFeature <= TOL_FEATURE, `features of ${userId}/${row.itemId}: max diff ${maxFeature}`);

        // The service end to end.
        const r = await postJson(`${url}/v1/rank`, { userId, domain: row.domain, candidates: [row.itemId], explain: true });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const diff = Math.abs(r.body[0].pctr - row.onnx.pctr);
        maxScore = Math.max(maxScore, diff, ...r.body[0].routing.map((v: number, k: number) => Math.abs(v - row.onnx.routing[k])));
        assert.ok(diff <= TOL_OUTPUT, `pctr of ${userId}/${row.itemId} in ${row.domain}: node ${r.body[0].pctr}, python ${row.onnx.pctr}`);
        checked++;
      }
    }
    console.log(`training e2e: ${checked} parity rows; max feature diff ${maxFeature}, max output diff ${maxScore}`);
    assert.equal(checked, rows.length);
  });
});
