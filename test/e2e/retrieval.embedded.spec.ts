import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_APPS } from '../../apps/suite/apps';
import { encodeFloat32, stateKeys, TOPICS } from '@recsys/contracts';
import type { BusRecord } from '@recsys/infra/event-bus/event-bus.port';
import { DLQ_HEADERS, EventPublisher } from '@recsys/messaging';
import { createInfra, createLogger, InfraContext, loadConfig, startSuite } from '@recsys/platform';
import { eventually, getJson, postJson } from '../support/suite';

const DIM = 8;
const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) + (i % 5) * 0.5);
const upsert = (i: number, group = `g${i % 4}`) => ({
  eventId: `cat-${i}-${Math.random()}`,
  key: `item-${i}`,
  timestamp: Date.now(),
  schemaVersion: 1 as const,
  op: 'upsert' as const,
  namespace: 'items',
  itemId: `item-${i}`,
  group,
  embedding: vec(i),
});
const del = (i: number) => ({ eventId: `del-${i}`, key: `item-${i}`, timestamp: Date.now(), schemaVersion: 1 as const, op: 'delete' as const, namespace: 'items', itemId: `item-${i}` });

describe('retrieval service (embedded adapters)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'retrieval-e2e-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', APPS: 'retrieval', RETRIEVAL_PORT: '0', RETRIEVAL_METRIC: 'l2', NAMESPACE_DIMS: `items:${DIM}` });
  const log = createLogger('warn');
  let infra: InfraContext;
  let suite: Awaited<ReturnType<typeof startSuite>>;
  let url: string;
  let publisher: EventPublisher;

  beforeAll(async () => {
    infra = await createInfra(config, log);
    publisher = new EventPublisher(infra.bus);
    suite = await startSuite(config, ALL_APPS, log, infra);
    url = suite.apps[0].url;
  });
  afterAll(async () => {
    await suite?.close();
    await infra?.close();
  });

  it('makes catalog upserts searchable, honours filters, and forgets deletes', async () => {
    await publisher.publish(
      TOPICS.catalogItems,
      Array.from({ length: 300 }, (_, i) => upsert(i)),
    );
    await eventually(async () => (await getJson(`${url}/v1/indexes`)).body.indexes?.[0]?.size === 300);
    const r = await postJson(`${url}/v1/candidates`, { namespace: 'items', k: 5, vector: vec(42) });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 5);
    assert.equal(r.body[0].itemId, 'item-42');
    assert.ok(r.body[0].score >= r.body[4].score, 'sorted by score, best first');

    const filtered = await postJson(`${url}/v1/candidates`, { namespace: 'items', k: 20, vector: vec(42), filter: { groups: ['g1'], excludeIds: ['item-41', 'item-45'] } });
    assert.equal(filtered.body.length, 20);
    for (const c of filtered.body) {
      assert.equal(Number(c.itemId.split('-')[1]) % 4, 1, `${c.itemId} outside group g1`);
      assert.ok(!['item-41', 'item-45'].includes(c.itemId));
    }

    await publisher.publish(TOPICS.catalogItems, [del(42)]);
    await eventually(async () => (await postJson(`${url}/v1/candidates`, { namespace: 'items', k: 5, vector: vec(42) })).body[0].itemId !== 'item-42');
    const after = await postJson(`${url}/v1/candidates`, { namespace: 'items', k: 300, vector: vec(42) });
    assert.ok(!after.body.some((c: { itemId: string }) => c.itemId === 'item-42'));
    assert.equal(after.body.length, 299);
  });

  it('dead-letters a wrong dimension and keeps consuming', async () => {
    const dead: BusRecord[] = [];
    const sub = await infra.bus.subscribe({ groupId: 'dlq-watch', topics: ['catalog.items.dlq'], fromBeginning: true, handler: async (r) => void dead.push(r) });
    await publisher.publish(TOPICS.catalogItems, [{ ...upsert(1000), embedding: [1, 2, 3] }, upsert(1001)]);
    await eventually(async () => dead.length === 1 && (await postJson(`${url}/v1/candidates`, { k: 1, vector: vec(1001) })).body[0]?.itemId === 'item-1001');
    assert.equal(dead[0].headers[DLQ_HEADERS.code], 'dimension_mismatch');
    assert.match(dead[0].headers[DLQ_HEADERS.reason], /dimension 8/);
    await sub.stop();
  });

  it('resolves a userId through the state store, and gives a 404 problem for a user without embedding', async () => {
    const missing = await postJson(`${url}/v1/candidates`, { k: 3, userId: 'nobody' });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'user_embedding_not_found');
    await infra.state.set(stateKeys.userEmbedding('alice'), encodeFloat32(vec(7)));
    const r = await postJson(`${url}/v1/candidates`, { k: 3, userId: 'alice' });
    assert.equal(r.status, 200);
    assert.equal(r.body[0].itemId, 'item-7');
    const unknownNs = await postJson(`${url}/v1/candidates`, { namespace: 'nope', k: 3, vector: vec(1) });
    assert.equal(unknownNs.body.code, 'namespace_not_found');
    const badDim = await postJson(`${url}/v1/candidates`, { k: 3, vector: [1, 2] });
    assert.equal(badDim.status, 422);
    assert.equal(badDim.body.code, 'dimension_mismatch');
  });

  for (const kind of ['exact', 'spann'] as const) {
    it(`rebuilds a namespace as a job with progress, switching kind to ${kind}, with the same answers`, async () => {
      const before = await postJson(`${url}/v1/candidates`, { k: 10, vector: vec(3) });
      const job = await postJson(`${url}/v1/indexes/items/rebuild`, { kind });
      assert.equal(job.status, 202);
      const done = await eventually(async () => {
        const j = await getJson(`${url}/v1/jobs/${job.body.id}`);
        return j.body.state === 'completed' || j.body.state === 'failed' ? j.body : undefined;
      });
      assert.equal(done.state, 'completed', done.error);
      assert.equal(done.progress, 100);
      const info = (await getJson(`${url}/v1/indexes`)).body.indexes[0];
      assert.equal(info.kind, kind);
      assert.equal(info.size, 300);
      const after = await postJson(`${url}/v1/candidates`, { k: 10, vector: vec(3) });
      assert.deepEqual(
        after.body.map((c: { itemId: string }) => c.itemId),
        before.body.map((c: { itemId: string }) => c.itemId),
      );
    });
  }

  it('snapshots at shutdown and, after a restart, catches up from the recorded offsets without loss or double apply', async () => {
    await suite.close();
    // Produced while the service is down.
    await publisher.publish(TOPICS.catalogItems, [upsert(2000), del(7)]);
    suite = await startSuite(config, ALL_APPS, log, infra);
    url = suite.apps[0].url;
    const info = await eventually(async () => {
      const i = (await getJson(`${url}/v1/indexes`)).body.indexes?.[0];
      return i && i.upserts === 1 && i.deletes === 1 ? i : undefined;
    });
    // 300 - item-42 + item-1001 + item-2000 - item-7: only the two records after the snapshot were applied.
    assert.equal(info.size, 300);
    assert.equal(info.kind, 'spann', 'the SPANN index came back from its snapshot');
    const r = await postJson(`${url}/v1/candidates`, { k: 1, vector: vec(2000) });
    assert.equal(r.body[0].itemId, 'item-2000');
    const gone = await postJson(`${url}/v1/candidates`, { k: 300, vector: vec(7) });
    assert.ok(!gone.body.some((c: { itemId: string }) => c.itemId === 'item-7'));
  });
});
