import assert from 'node:assert/strict';
import { ExactIndex } from './exact.index';
import { HnswIndex } from './hnsw.index';
import { HNSW_ENGINES, type HnswEngineName } from './hnsw-engine.port';
import { GaussianMixture, row } from './synthetic';
import { vectorIndexContract } from './vector-index.contract';

// Every engine is held to the same contract and the same specifics.
for (const engine of HNSW_ENGINES) {
  vectorIndexContract(`HnswIndex [${engine}]`, (dim, metric) => new HnswIndex(dim, metric, { m: 16, efConstruction: 100, ef: 64, initialCapacity: 64, engine }), {
    minRecall: 0.95,
    load: (dir) => HnswIndex.load(dir, { engine }),
  });

  // Same invariants with every filtered query forced through hnswlib's filter (no exact scan for
  // selective filters), so the graph path itself is held to "never forbidden, k when k pass".
  vectorIndexContract(`HnswIndex [${engine}] (graph-only filtering)`, (dim, metric) => new HnswIndex(dim, metric, { efConstruction: 100, ef: 64, exactScanBelow: 0, engine }), {
    minRecall: 0.95,
  });

  specifics(engine);
}

function specifics(engine: HnswEngineName): void {
  describe(`HnswIndex specifics [${engine}]`, () => {
    const mx = new GaussianMixture({ dim: 16, clusters: 10, decay: 0.8, seed: 3 });

    it('grows itself from a tiny capacity and reuses freed labels', () => {
      const ix = new HnswIndex(16, 'l2', { initialCapacity: 16, efConstruction: 64, engine });
      const data = mx.sample(300, 1);
      for (let i = 0; i < 300; i++) ix.upsert(`i${i}`, row(data, i));
      const grown = ix.params().capacity as number;
      assert.ok(grown >= 300 && grown <= 512, `capacity ${grown}`);
      for (let i = 0; i < 100; i++) ix.remove(`i${i}`);
      const more = mx.sample(100, 2);
      for (let i = 0; i < 100; i++) ix.upsert(`n${i}`, row(more, i));
      assert.equal(ix.params().capacity, grown, 'freed labels were not reused');
      assert.equal(ix.size(), 300);
      for (let i = 0; i < 100; i += 9) assert.equal(ix.search(row(more, i), 1)[0].id, `n${i}`);
    });

    it('graph-only filtered search returns k for a 1% filter and counts no shortfall on connected data', () => {
      const data = mx.sample(5000, 4);
      const ix = new HnswIndex(16, 'l2', { efConstruction: 100, exactScanBelow: 0, engine });
      const oracle = new ExactIndex(16, 'l2');
      for (let i = 0; i < 5000; i++) {
        ix.upsert(`i${i}`, row(data, i), i % 100 === 0 ? 'rare' : 'common');
        oracle.upsert(`i${i}`, row(data, i), i % 100 === 0 ? 'rare' : 'common');
      }
      const qs = mx.sample(20, 5);
      let agree = 0;
      for (let i = 0; i < 20; i++) {
        const hits = ix.search(row(qs, i), 10, { groups: ['rare'] }, { ef: 64 });
        assert.equal(hits.length, 10);
        for (const h of hits) assert.equal(Number(h.id.slice(1)) % 100, 0);
        const truth = new Set(oracle.search(row(qs, i), 10, { groups: ['rare'] }).map((h) => h.id));
        agree += hits.filter((h) => truth.has(h.id)).length;
      }
      assert.ok(agree / 200 >= 0.9, `filtered recall ${agree / 200}`);
      assert.equal(ix.stats().exactScanSelective, 0);
    });

    it('selective filters are answered exactly (exact-scan path) and counted', () => {
      const data = mx.sample(1000, 6);
      const ix = new HnswIndex(16, 'ip', { efConstruction: 64, exactScanBelow: 50, engine });
      const oracle = new ExactIndex(16, 'ip');
      for (let i = 0; i < 1000; i++) {
        ix.upsert(`i${i}`, row(data, i), `g${i % 40}`);
        oracle.upsert(`i${i}`, row(data, i), `g${i % 40}`);
      }
      const q = row(mx.sample(1, 7), 0);
      const a = ix.search(q, 10, { groups: ['g3'] });
      const b = oracle.search(q, 10, { groups: ['g3'] });
      assert.deepEqual(
        a.map((h) => h.id),
        b.map((h) => h.id),
      );
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(a[j].distance - b[j].distance) < 1e-4);
      assert.equal(ix.stats().exactScanSelective, 1);
    });

    it('a filter that admits most of a small index (a few excluded ids) stays on the graph, and still never returns an excluded id', () => {
      const data = mx.sample(1000, 10);
      const ix = new HnswIndex(16, 'ip', { efConstruction: 64, exactScanBelow: 2000, engine });
      for (let i = 0; i < 1000; i++) ix.upsert(`i${i}`, row(data, i));
      const q = row(mx.sample(1, 11), 0);
      const nearest = ix.search(q, 20).map((h) => h.id);
      const excludeIds = nearest.slice(0, 10);
      const hits = ix.search(q, 10, { excludeIds });
      assert.equal(hits.length, 10);
      for (const h of hits) assert.ok(!excludeIds.includes(h.id), `excluded ${h.id} returned`);
      assert.deepEqual(
        hits.map((h) => h.id),
        nearest.slice(10, 20),
      );
      assert.equal(ix.stats().exactScanSelective, 0);
    });

    it('per-query ef override changes the search breadth', () => {
      const data = mx.sample(2000, 8);
      const ix = new HnswIndex(16, 'l2', { m: 4, efConstruction: 16, ef: 10, engine });
      const oracle = new ExactIndex(16, 'l2');
      for (let i = 0; i < 2000; i++) {
        ix.upsert(`i${i}`, row(data, i));
        oracle.upsert(`i${i}`, row(data, i));
      }
      const qs = mx.sample(50, 9);
      const rec = (ef: number): number => {
        let hit = 0;
        for (let i = 0; i < 50; i++) {
          const truth = new Set(oracle.search(row(qs, i), 10).map((h) => h.id));
          hit += ix.search(row(qs, i), 10, undefined, { ef }).filter((h) => truth.has(h.id)).length;
        }
        return hit / 500;
      };
      const low = rec(10);
      const high = rec(400);
      assert.ok(high > low, `ef 400 recall ${high} not above ef 10 recall ${low}`);
      assert.ok(high >= 0.99);
    });
  });
}
