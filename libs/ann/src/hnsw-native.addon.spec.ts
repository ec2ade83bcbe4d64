import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HierarchicalNSW as NodeHnsw } from 'hnswlib-node';
import { HierarchicalNSW, buildInfo } from '@recsys/hnsw-native';
import { ExactIndex } from './exact.index';
import { GaussianMixture, row } from './synthetic';

// The raw addon (native/hnsw), below HnswIndex: zero-copy input, output into caller arrays,
// C++ filters, hnswlib's file format.
const DIM = 24;
const N = 3000;
const K = 10;
const mx = new GaussianMixture({ dim: DIM, clusters: 12, decay: 0.8, seed: 17 });
const base = mx.sample(N, 1);
const queries = mx.sample(40, 2);

function built(space: 'l2' | 'ip' | 'cosine' = 'l2', n = N): HierarchicalNSW {
  const ix = new HierarchicalNSW(space, DIM);
  ix.initIndex({ maxElements: n, m: 16, efConstruction: 100, randomSeed: 7 });
  for (let i = 0; i < n; i++) ix.addPoint(row(base, i), i);
  ix.setEf(64);
  return ix;
}

function oracleOf(space: 'l2' | 'ip' | 'cosine', n = N): ExactIndex {
  const ex = new ExactIndex(DIM, space);
  for (let i = 0; i < n; i++) ex.upsert(String(i), row(base, i));
  return ex;
}

function knn(ix: HierarchicalNSW, q: Float32Array, k = K, filter?: Parameters<HierarchicalNSW['searchKnn']>[4]): { labels: number[]; dists: number[] } {
  const labels = new Uint32Array(k);
  const dists = new Float32Array(k);
  const n = ix.searchKnn(q, k, labels, dists, filter);
  return { labels: Array.from(labels.subarray(0, n)), dists: Array.from(dists.subarray(0, n)) };
}

describe('@recsys/hnsw-native addon', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'hnsw-native-'));
    dirs.push(d);
    return d;
  };

  it('reports how it was built', () => {
    assert.equal(buildInfo.hnswlib, '0.8.0');
    assert.ok(['avx512', 'avx', 'sse', 'scalar'].includes(buildInfo.simd));
    assert.ok(buildInfo.march.length > 0);
  });

  for (const space of ['l2', 'ip', 'cosine'] as const) {
    it(`${space}: search from Float32Array views agrees with the exact index (ids, distances, order)`, () => {
      const ix = built(space);
      const ex = oracleOf(space);
      let agree = 0;
      for (let i = 0; i < queries.count; i++) {
        const q = row(queries, i); // a subarray view into the query block: read in place
        const { labels, dists } = knn(ix, q);
        assert.equal(labels.length, K);
        for (let j = 1; j < K; j++) assert.ok(dists[j - 1] <= dists[j], 'not sorted');
        const truth = ex.search(q, K);
        const truthDist = new Map(ex.search(q, N).map((h) => [h.id, h.distance]));
        for (let j = 0; j < K; j++) {
          const d = truthDist.get(String(labels[j]))!;
          assert.ok(Math.abs(dists[j] - d) <= 1e-4 * Math.max(1, Math.abs(d)), `${space}: label ${labels[j]} distance ${dists[j]} vs exact ${d}`);
        }
        const t = new Set(truth.map((h) => Number(h.id)));
        agree += labels.filter((l) => t.has(l)).length;
      }
      assert.ok(agree / (K * queries.count) >= 0.95, `${space} recall ${agree / (K * queries.count)}`);
    });
  }

  it('addPoint on an existing label replaces its vector; getPoint reads it back', () => {
    const ix = built('l2', 500);
    const v = new Float32Array(DIM).fill(50);
    ix.addPoint(v, 3);
    assert.equal(ix.getCurrentCount(), 500);
    const out = new Float32Array(DIM);
    ix.getPoint(3, out);
    assert.deepEqual(Array.from(out), Array.from(v));
    assert.equal(knn(ix, v, 1).labels[0], 3);
    assert.throws(() => ix.getPoint(9999, out), /label 9999 is not in the index/);
  });

  it('markDelete: a deleted label is never returned; unmarkDelete brings it back', () => {
    const ix = built('l2', 1000);
    const deleted = new Set<number>();
    for (let l = 0; l < 1000; l += 4) {
      ix.markDelete(l);
      deleted.add(l);
    }
    assert.equal(ix.getDeletedCount(), 250);
    assert.ok(ix.isMarkedDeleted(0) && !ix.isMarkedDeleted(1) && !ix.isMarkedDeleted(123456));
    for (let l = 0; l < 1000; l += 8) {
      const { labels } = knn(ix, row(base, l)); // the deleted item's own vector
      assert.equal(labels.length, K);
      for (const x of labels) assert.ok(!deleted.has(x), `deleted label ${x} returned`);
    }
    assert.throws(() => ix.markDelete(0), /hnswlib: .*already deleted/);
    ix.unmarkDelete(8);
    assert.equal(knn(ix, row(base, 8), 1).labels[0], 8);
  });

  it('allowReplaceDeleted: addPoint(v, newLabel, true) reuses a deleted slot instead of growing', () => {
    const ix = new HierarchicalNSW('l2', DIM);
    ix.initIndex({ maxElements: 100, allowReplaceDeleted: true });
    for (let i = 0; i < 100; i++) ix.addPoint(row(base, i), i);
    assert.throws(() => ix.addPoint(row(base, 100), 100), /exceeds the specified limit/);
    ix.markDelete(42);
    ix.addPoint(row(base, 100), 100, true);
    assert.equal(ix.getCurrentCount(), 100);
    assert.equal(ix.getDeletedCount(), 0);
    assert.equal(knn(ix, row(base, 100), 1).labels[0], 100);
    assert.ok(!knn(ix, row(base, 42), K).labels.includes(42));
    const without = built('l2', 10);
    without.markDelete(1);
    assert.throws(() => without.addPoint(row(base, 11), 11, true), /Replacement of deleted elements is disabled/);
  });

  it('resizeIndex grows the capacity; adding past it throws', () => {
    const ix = new HierarchicalNSW('ip', DIM);
    ix.initIndex({ maxElements: 10 });
    for (let i = 0; i < 10; i++) ix.addPoint(row(base, i), i);
    assert.throws(() => ix.addPoint(row(base, 10), 10), /hnswlib: The number of elements exceeds/);
    ix.resizeIndex(40);
    assert.equal(ix.getMaxElements(), 40);
    for (let i = 10; i < 40; i++) ix.addPoint(row(base, i), i);
    assert.equal(knn(ix, row(base, 30), 40).labels.length, 40);
  });

  it('filters: allowBits, group codes and excluded labels are all enforced; k returned when k pass', () => {
    const ix = built('l2');
    const labelGroups = new Int32Array(N).map((_, i) => (i % 50 === 0 ? -1 : i % 7));
    const allowedGroups = Uint8Array.from([0, 0, 1, 0, 0, 1, 0]); // groups 2 and 5
    const allowBits = new Uint8Array(Math.ceil(N / 8));
    for (let l = 0; l < N; l += 2) allowBits[l >> 3] |= 1 << (l & 7); // even labels only
    for (let i = 0; i < queries.count; i++) {
      const q = row(queries, i);
      const plain = knn(ix, q, 30).labels;
      const excluded = Uint32Array.from(plain.slice(0, 15).reverse()); // any order
      const f = { allowBits, labelGroups, allowedGroups, excluded };
      const { labels } = knn(ix, q, K, f);
      assert.equal(labels.length, K);
      for (const l of labels) {
        assert.equal(l % 2, 0, `odd label ${l}`);
        assert.ok(labelGroups[l] === 2 || labelGroups[l] === 5, `label ${l} in group ${labelGroups[l]}`);
        assert.ok(!excluded.includes(l), `excluded ${l}`);
      }
      const onlyGroups = knn(ix, q, K, { labelGroups, allowedGroups }).labels;
      for (const l of onlyGroups) assert.ok(labelGroups[l] === 2 || labelGroups[l] === 5);
    }
    // Nothing admitted: an empty answer, not an error.
    assert.equal(knn(ix, row(queries, 0), K, { allowBits: new Uint8Array(0) }).labels.length, 0);
    // A label past the group table is refused rather than read out of bounds.
    const short = knn(ix, row(queries, 0), K, { labelGroups: new Int32Array(5), allowedGroups: Uint8Array.from([1]) }).labels;
    for (const l of short) assert.ok(l < 5);
  });

  it('save/load round trip (sync and async) gives identical answers and keeps deletions', async () => {
    const ix = built('cosine');
    for (let l = 0; l < N; l += 10) ix.markDelete(l);
    const d = tmp();
    await ix.writeIndex(join(d, 'a.bin'));
    ix.writeIndexSync(join(d, 'b.bin'));
    const a = new HierarchicalNSW('cosine', DIM);
    await a.readIndex(join(d, 'a.bin'));
    const b = new HierarchicalNSW('cosine', DIM);
    b.readIndexSync(join(d, 'b.bin'));
    for (const back of [a, b]) {
      back.setEf(64);
      assert.equal(back.getCurrentCount(), N);
      assert.equal(back.getDeletedCount(), N / 10);
      for (let i = 0; i < queries.count; i++) assert.deepEqual(knn(back, row(queries, i)), knn(ix, row(queries, i)));
    }
  });

  it('a file written by hnswlib-node loads and answers the same; hnswlib-node loads ours', async () => {
    const d = tmp();
    const theirs = new NodeHnsw('l2', DIM);
    theirs.initIndex(N, 16, 100, 7);
    for (let i = 0; i < N; i++) theirs.addPoint(Array.from(row(base, i)), i);
    theirs.markDelete(5);
    theirs.setEf(64);
    await theirs.writeIndex(join(d, 'node.bin'));
    const ours = new HierarchicalNSW('l2', DIM);
    await ours.readIndex(join(d, 'node.bin'));
    ours.setEf(64);
    assert.ok(ours.isMarkedDeleted(5));
    for (let i = 0; i < queries.count; i++) {
      const q = row(queries, i);
      const r = theirs.searchKnn(Array.from(q), K);
      const mine = knn(ours, q);
      assert.deepEqual(mine.labels, Array.from(r.neighbors)); // the addon's array belongs to the host realm, not the spec's
      for (let j = 0; j < K; j++) assert.ok(Math.abs(mine.dists[j] - r.distances[j]) <= 1e-3 * Math.max(1, r.distances[j]));
    }
    await ours.writeIndex(join(d, 'native.bin'));
    const again = new NodeHnsw('l2', DIM);
    await again.readIndex(join(d, 'native.bin'));
    again.setEf(64);
    assert.deepEqual(Array.from(again.searchKnn(Array.from(row(queries, 0)), K).neighbors), knn(ours, row(queries, 0)).labels);
  });

  it('refuses changes while a save is in flight, and reports a missing file clearly', async () => {
    const ix = built('l2', 500);
    const d = tmp();
    const saving = ix.writeIndex(join(d, 'x.bin'));
    assert.throws(() => ix.addPoint(row(base, 0), 0), /being saved/);
    assert.equal(knn(ix, row(base, 1), 1).labels[0], 1); // reads stay allowed
    await saving;
    ix.addPoint(row(base, 0), 0);
    await assert.rejects(new HierarchicalNSW('l2', DIM).readIndex(join(d, 'missing.bin')), /hnswlib: Cannot open file/);
    await assert.rejects(ix.writeIndex(join(d, 'no-such-dir', 'x.bin')), /cannot open file for writing/);
  });

  it('bad input: a clear error, and the index is unchanged', () => {
    const ix = built('l2', 200);
    const labels = new Uint32Array(K);
    const dists = new Float32Array(K);
    assert.throws(() => ix.addPoint(Array.from(row(base, 0)) as unknown as Float32Array, 500), /vector must be a Float32Array/);
    assert.throws(() => ix.addPoint(new Float64Array(DIM) as unknown as Float32Array, 500), /vector must be a Float32Array/);
    assert.throws(() => ix.addPoint(new Float32Array(DIM + 1), 500), /vector has dimension 25, index has 24/);
    const nan = new Float32Array(DIM);
    nan[3] = NaN;
    assert.throws(() => ix.addPoint(nan, 500), /vector component 3 is not a finite number/);
    assert.throws(() => ix.addPoint(row(base, 0), -1), /label must be an integer/);
    assert.throws(() => ix.addPoint(row(base, 0), 1.5), /label must be an integer/);
    assert.equal(ix.getCurrentCount(), 200);
    assert.throws(() => ix.searchKnn(new Float32Array(DIM - 1), K, labels, dists), /query has dimension 23, index has 24/);
    assert.throws(() => ix.searchKnn(row(base, 0), K + 1, labels, dists), /fewer than k/);
    assert.throws(() => ix.searchKnn(row(base, 0), K, new Int32Array(K) as unknown as Uint32Array, dists), /outLabels must be a Uint32Array/);
    assert.throws(() => ix.searchKnn(row(base, 0), K, labels, dists, { excluded: [1, 2] as unknown as Uint32Array }), /filter.excluded must be a Uint32Array/);
    assert.throws(() => ix.searchKnn(row(base, 0), K, labels, dists, { allowedGroups: new Uint8Array(1) }), /labelGroups \(required with allowedGroups\) must be a Int32Array/);
    assert.throws(() => new HierarchicalNSW('hamming' as 'l2', DIM), /space must be 'l2', 'ip' or 'cosine'/);
    assert.throws(() => new HierarchicalNSW('l2', 0), /dim must be an integer/);
    assert.throws(() => new HierarchicalNSW('l2', DIM).searchKnn(row(base, 0), K, labels, dists), /not initialised/);
  });
});
