import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HierarchicalNSW, buildInfo } from '@recsys/hnsw-native';
import { GaussianMixture, row } from './synthetic';

// native/hnsw answers unfiltered searches of a graph without deleted elements with its own walk
// (src/fast_search.h) instead of hnswlib's searchKnn. It must walk the same graph the same way:
// same neighbours in the same order at every ef, for every space and for dimensions that do and do
// not fill a SIMD register. setSearchPath('hnswlib') sends an index through hnswlib's own search:
// the reference here, over the very same graph file.
const N = 1500;

function search(ix: HierarchicalNSW, q: Float32Array, k: number): { labels: number[]; dists: number[] } {
  const labels = new Uint32Array(k);
  const dists = new Float32Array(k);
  const n = ix.searchKnn(q, k, labels, dists);
  return { labels: Array.from(labels.subarray(0, n)), dists: Array.from(dists.subarray(0, n)) };
}

describe('@recsys/hnsw-native fast search path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hnsw-fast-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the kernels of the unfiltered search path, and takes the path to use', () => {
    assert.ok(['avx512', 'avx2', 'scalar'].includes(buildInfo.searchSimd));
    const ix = new HierarchicalNSW('l2', 4);
    assert.equal(ix.getSearchPath(), 'fast');
    ix.setSearchPath('hnswlib');
    assert.equal(ix.getSearchPath(), 'hnswlib');
    assert.throws(() => ix.setSearchPath('other' as 'fast'), /'fast' or 'hnswlib'/);
  });

  for (const space of ['l2', 'ip', 'cosine'] as const) {
    for (const dim of [7, 16, 37, 128]) {
      it(`${space}, dim ${dim}: the same neighbours in the same order as hnswlib's search, at every ef`, () => {
        const mx = new GaussianMixture({ dim, clusters: 10, decay: 0.8, seed: 5 + dim });
        const base = mx.sample(N, 1);
        const queries = mx.sample(40, 2);
        const built = new HierarchicalNSW(space, dim);
        built.initIndex({ maxElements: N, m: 12, efConstruction: 80, randomSeed: 3 });
        for (let i = 0; i < N; i++) built.addPoint(row(base, i), i);
        const file = join(dir, `${space}-${dim}.bin`);
        built.writeIndexSync(file);
        const fast = new HierarchicalNSW(space, dim);
        fast.readIndexSync(file);
        const reference = new HierarchicalNSW(space, dim);
        reference.readIndexSync(file);
        reference.setSearchPath('hnswlib');
        assert.equal(fast.getSearchPath(), 'fast');
        assert.equal(reference.getSearchPath(), 'hnswlib');
        let compared = 0;
        for (const ef of [1, 10, 40, 200]) {
          fast.setEf(ef);
          reference.setEf(ef);
          for (const k of [1, 10, 50]) {
            for (let i = 0; i < queries.count; i++) {
              const q = row(queries, i);
              const a = search(fast, q, k);
              const b = search(reference, q, k);
              assert.equal(a.labels.length, b.labels.length, `ef ${ef} k ${k} query ${i}: count`);
              // Distances: equal up to the rounding of fused multiply-add; a tie may swap two labels.
              for (let j = 0; j < a.dists.length; j++) {
                assert.ok(Math.abs(a.dists[j] - b.dists[j]) <= 1e-4 * Math.max(1, Math.abs(b.dists[j])), `ef ${ef} k ${k} query ${i} rank ${j}: ${a.dists[j]} vs ${b.dists[j]}`);
                if (a.labels[j] !== b.labels[j]) assert.ok(Math.abs(a.dists[j] - b.dists[j]) <= 1e-4 * Math.max(1, Math.abs(b.dists[j])));
              }
              assert.deepEqual(
                [...a.labels].sort((x, y) => x - y),
                [...b.labels].sort((x, y) => x - y),
                `ef ${ef} k ${k} query ${i}: labels`,
              );
              compared++;
            }
          }
        }
        assert.equal(compared, 4 * 3 * 40);
      });
    }
  }

  it('falls back to hnswlib once an element is deleted, and the answers stay consistent', () => {
    const dim = 16;
    const mx = new GaussianMixture({ dim, clusters: 6, decay: 0.8, seed: 11 });
    const base = mx.sample(800, 1);
    const ix = new HierarchicalNSW('l2', dim);
    ix.initIndex({ maxElements: 800, m: 8, efConstruction: 60, randomSeed: 1 });
    for (let i = 0; i < 800; i++) ix.addPoint(row(base, i), i);
    ix.setEf(50);
    const q = row(base, 5);
    assert.equal(search(ix, q, 1).labels[0], 5);
    ix.markDelete(5);
    const after = search(ix, q, 10).labels;
    assert.ok(!after.includes(5));
    assert.equal(after.length, 10);
  });

  it('a grown index (resizeIndex) is searched over all its elements', () => {
    const dim = 16;
    const mx = new GaussianMixture({ dim, clusters: 4, decay: 0.8, seed: 2 });
    const base = mx.sample(600, 1);
    const ix = new HierarchicalNSW('l2', dim);
    ix.initIndex({ maxElements: 100, m: 8, efConstruction: 60, randomSeed: 1 });
    for (let i = 0; i < 600; i++) {
      if (i === ix.getMaxElements()) ix.resizeIndex(ix.getMaxElements() * 2);
      ix.addPoint(row(base, i), i);
    }
    ix.setEf(64);
    let self = 0;
    for (let i = 0; i < 600; i += 7) if (search(ix, row(base, i), 1).labels[0] === i) self++;
    assert.ok(self >= 80, `${self} of 86 points found themselves`);
  });
});
