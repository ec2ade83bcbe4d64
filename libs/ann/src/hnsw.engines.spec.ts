import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HnswIndex } from './hnsw.index';
import { HNSW_ENGINES } from './hnsw-engine.port';
import { GaussianMixture, row } from './synthetic';

// Engine-level behaviour of HnswIndex: the default engine, snapshots crossing engines, and no
// state change when an engine rejects a vector.
describe('HnswIndex engines', () => {
  const mx = new GaussianMixture({ dim: 16, clusters: 8, decay: 0.8, seed: 5 });
  const data = mx.sample(1500, 1);
  const qs = mx.sample(20, 2);
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const filled = (engine: (typeof HNSW_ENGINES)[number]): HnswIndex => {
    const ix = new HnswIndex(16, 'cosine', { efConstruction: 80, ef: 48, engine });
    for (let i = 0; i < 1500; i++) ix.upsert(`i${i}`, row(data, i), `g${i % 5}`);
    for (let i = 0; i < 1500; i += 11) ix.remove(`i${i}`);
    return ix;
  };

  it('defaults to the native engine and reports how it was built', () => {
    const ix = new HnswIndex(16, 'l2');
    assert.equal(ix.params().engine, 'native');
    const info = ix.engineInfo();
    assert.equal(info.engine, 'native');
    assert.equal(typeof info.simd, 'string');
    assert.equal(new HnswIndex(16, 'l2', { engine: 'hnswlib-node' }).engineInfo().engine, 'hnswlib-node');
    assert.throws(() => new HnswIndex(16, 'l2', { engine: 'faiss' as 'native' }), /unknown engine 'faiss'/);
  });

  for (const [from, to] of [
    ['hnswlib-node', 'native'],
    ['native', 'hnswlib-node'],
  ] as const) {
    it(`a snapshot written by the ${from} engine loads into the ${to} engine with the same answers`, async () => {
      const ix = filled(from);
      const dir = mkdtempSync(join(tmpdir(), 'hnsw-engines-'));
      dirs.push(dir);
      await ix.save(dir);
      const back = await HnswIndex.load(dir, { engine: to });
      assert.equal(back.params().engine, to);
      assert.equal((await HnswIndex.load(dir)).params().engine, from, 'without an option, the writing engine is kept');
      assert.equal(back.size(), ix.size());
      for (let i = 0; i < qs.count; i++) {
        for (const f of [undefined, { groups: ['g1', 'g3'] }, { excludeIds: ['i1', 'i2', 'i3'] }]) {
          const a = ix.search(row(qs, i), 10, f);
          const b = back.search(row(qs, i), 10, f);
          assert.deepEqual(
            b.map((h) => h.id),
            a.map((h) => h.id),
          );
          for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j].distance - b[j].distance) < 1e-5);
        }
      }
      back.upsert('late', row(qs, 0));
      assert.equal(back.search(row(qs, 0), 1)[0].id, 'late');
    });
  }

  it('a snapshot from before engines existed (no engine in its sidecar) loads with the native engine', async () => {
    const ix = filled('hnswlib-node');
    const dir = mkdtempSync(join(tmpdir(), 'hnsw-engines-'));
    dirs.push(dir);
    await ix.save(dir);
    const metaPath = join(dir, 'hnsw.meta.json');
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { params: Record<string, unknown> };
    delete meta.params.engine;
    writeFileSync(metaPath, JSON.stringify(meta));
    const back = await HnswIndex.load(dir);
    assert.equal(back.params().engine, 'native');
    assert.deepEqual(
      back.search(row(qs, 3), 10).map((h) => h.id),
      ix.search(row(qs, 3), 10).map((h) => h.id),
    );
  });

  for (const engine of HNSW_ENGINES) {
    it(`[${engine}] k past the preallocated result buffers (64) returns k sorted hits`, () => {
      const ix = filled(engine);
      const hits = ix.search(row(qs, 0), 300, undefined, { ef: 300 });
      assert.equal(hits.length, 300);
      assert.equal(new Set(hits.map((h) => h.id)).size, 300);
      for (let j = 1; j < 300; j++) assert.ok(hits[j - 1].distance <= hits[j].distance);
    });

    it(`[${engine}] a rejected vector (NaN) changes nothing: no label consumed, the snapshot stays consistent`, async () => {
      const ix = new HnswIndex(16, 'l2', { engine, initialCapacity: 16 });
      for (let i = 0; i < 40; i++) ix.upsert(`i${i}`, row(data, i));
      ix.remove('i5');
      const bad = row(data, 100).slice();
      bad[2] = Number.NaN;
      assert.throws(() => ix.upsert('new', bad), /component 2 is not a finite number/); // would take a fresh label
      assert.throws(() => ix.upsert('i7', bad), /not a finite number/); // existing label
      ix.remove('i6');
      assert.throws(() => ix.upsert('again', Array.from(bad)), /not a finite number/); // would revive a freed label
      assert.equal(ix.size(), 38);
      assert.ok(!ix.has('new') && !ix.has('again'));
      assert.equal(ix.search(row(data, 7), 1)[0].id, 'i7', 'i7 kept its vector');
      const dir = mkdtempSync(join(tmpdir(), 'hnsw-engines-'));
      dirs.push(dir);
      await ix.save(dir);
      const back = await HnswIndex.load(dir);
      assert.equal(back.size(), 38);
      back.upsert('x', row(data, 200));
      back.upsert('y', row(data, 201));
      assert.equal(back.params().capacity, ix.params().capacity, 'freed labels reused after load');
    });
  }
});
