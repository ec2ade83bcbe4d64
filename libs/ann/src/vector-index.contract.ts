import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExactIndex } from './exact.index';
import { recallAtK } from './recall';
import { GaussianMixture, Rng, row, type VectorSet } from './synthetic';
import type { Metric, SearchFilter, SearchHit, SearchOptions, VectorIndex } from './vector-index.port';

export interface VectorIndexContractOptions {
  /** recall@10 against ExactIndex that the index must reach on the seeded data (default 0.9). */
  minRecall?: number;
  /** Restores a snapshot written by save(); the snapshot test runs only when given. */
  load?: (dir: string) => Promise<VectorIndex>;
  /** Passed to every search (e.g. a wider ef or probe count for a small test index). */
  searchOptions?: SearchOptions;
}

const DIM = 32;
const K = 10;
const GROUPS = 100; // item i is in group g(i % 100): every group holds ~1% of the items

function mixture(seed: number): GaussianMixture {
  return new GaussianMixture({ dim: DIM, clusters: 24, spread: 1, centerScale: 2, decay: 0.8, seed });
}

function id(i: number): string {
  return `item-${i}`;
}

function group(i: number): string {
  return `g${i % GROUPS}`;
}

/** Loads set into each index as item-i with group g(i % 100). */
function fill(set: VectorSet, ...indexes: VectorIndex[]): void {
  for (let i = 0; i < set.count; i++) for (const ix of indexes) ix.upsert(id(i), row(set, i), group(i));
}

function assertSorted(hits: SearchHit[], what: string): void {
  for (let i = 1; i < hits.length; i++) {
    assert.ok(hits[i - 1].distance <= hits[i].distance, `${what}: hits not sorted at ${i}: ${hits[i - 1].distance} > ${hits[i].distance}`);
  }
  assert.equal(new Set(hits.map((h) => h.id)).size, hits.length, `${what}: duplicate ids in hits`);
}

/** Every hit passes the filter (checked against the oracle's copy of groups). */
function assertFilterHolds(hits: SearchHit[], filter: SearchFilter, oracle: ExactIndex, what: string): void {
  const groups = filter.groups === undefined ? null : new Set(filter.groups);
  const excluded = new Set(filter.excludeIds ?? []);
  for (const h of hits) {
    assert.ok(oracle.has(h.id), `${what}: returned ${h.id}, which is not live`);
    if (groups !== null) assert.ok(groups.has(oracle.groupOf(h.id) ?? '\u0000'), `${what}: ${h.id} (group ${oracle.groupOf(h.id)}) is outside the allowed groups`);
    assert.ok(!excluded.has(h.id), `${what}: returned excluded id ${h.id}`);
  }
}

/** How many live items pass the filter, by the oracle. */
function passCount(oracle: ExactIndex, filter: SearchFilter): number {
  return oracle.search(new Float32Array(DIM), oracle.size(), filter).length;
}

/** The metric's distance (hnswlib definitions) between a raw query and a stored vector. */
function exactDistance(metric: Metric, q: Float32Array, v: Float32Array): number {
  let qn = 1;
  if (metric === 'cosine') {
    let s = 0;
    for (let j = 0; j < q.length; j++) s += q[j] * q[j];
    qn = 1 / (Math.sqrt(s) + 1e-30);
  }
  let d = 0;
  for (let j = 0; j < q.length; j++) {
    d += metric === 'l2' ? (q[j] - v[j]) ** 2 : q[j] * qn * v[j];
  }
  return metric === 'l2' ? d : 1 - d;
}

/**
 * The VectorIndex invariants (see vector-index.port.ts), run against an implementation with
 * ExactIndex as the oracle. Data: seeded anisotropic Gaussian mixtures, 32 dimensions.
 */
export function vectorIndexContract(name: string, make: (dim: number, metric: Metric) => VectorIndex, opts: VectorIndexContractOptions = {}): void {
  const minRecall = opts.minRecall ?? 0.9;
  const so = opts.searchOptions;
  const search = (ix: VectorIndex, q: Float32Array, k: number, f?: SearchFilter): SearchHit[] => {
    const hits = ix.search(q, k, f, so);
    assertSorted(hits, name);
    return hits;
  };

  describe(`VectorIndex contract: ${name}`, () => {
    const tmpDirs: string[] = [];
    afterAll(() => {
      for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
    });

    it(`recall@10 against ExactIndex >= ${minRecall} (5000 x 32, l2), hits sorted, k returned`, () => {
      const mx = mixture(11);
      const base = mx.sample(5000, 1);
      const queries = mx.sample(100, 2);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      assert.equal(ix.size(), 5000);
      assert.equal(ix.dim, DIM);
      assert.equal(ix.metric, 'l2');
      const found: string[][] = [];
      const truth: string[][] = [];
      for (let i = 0; i < queries.count; i++) {
        const q = row(queries, i);
        const hits = search(ix, q, K);
        assert.equal(hits.length, K);
        found.push(hits.map((h) => h.id));
        truth.push(oracle.search(q, K).map((h) => h.id));
      }
      const r = recallAtK(found, truth, K);
      assert.ok(r >= minRecall, `${name}: recall@10 ${r.toFixed(3)} < ${minRecall}`);
      assert.ok(ix.memoryBytes() > 0);
    });

    for (const metric of ['l2', 'ip', 'cosine'] as const) {
      it(`${metric}: distances agree with ExactIndex on the returned ids; recall holds`, () => {
        const mx = mixture(metric === 'l2' ? 21 : metric === 'ip' ? 22 : 23);
        const base = mx.sample(2000, 1);
        const queries = mx.sample(40, 2);
        const ix = make(DIM, metric);
        const oracle = new ExactIndex(DIM, metric);
        fill(base, ix, oracle);
        const found: string[][] = [];
        const truth: string[][] = [];
        for (let i = 0; i < queries.count; i++) {
          const q = row(queries, i);
          const hits = search(ix, q, K);
          assert.equal(hits.length, K);
          for (const h of hits) {
            const d = exactDistance(metric, q, oracle.vectorOf(h.id)!);
            assert.ok(Math.abs(h.distance - d) <= 1e-4 * Math.max(1, Math.abs(d)), `${metric}: ${h.id} distance ${h.distance} vs exact ${d}`);
          }
          found.push(hits.map((h) => h.id));
          truth.push(oracle.search(q, K).map((h) => h.id));
        }
        const r = recallAtK(found, truth, K);
        assert.ok(r >= minRecall, `${name} ${metric}: recall@10 ${r.toFixed(3)} < ${minRecall}`);
      });
    }

    it('upsert of an existing id replaces its vector and group; size unchanged', () => {
      const mx = mixture(31);
      const base = mx.sample(1000, 1);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      const old = row(base, 7).slice();
      const moved = new Float32Array(DIM).fill(40); // far from every cluster
      ix.upsert(id(7), moved, 'moved');
      oracle.upsert(id(7), moved, 'moved');
      assert.equal(ix.size(), 1000);
      assert.ok(ix.has(id(7)));
      const atNew = search(ix, moved, 1);
      assert.equal(atNew[0].id, id(7));
      assert.ok(atNew[0].distance < 1e-3, `distance to the replaced vector ${atNew[0].distance}`);
      const atOld = search(ix, old, K);
      assert.ok(!atOld.some((h) => h.id === id(7)), 'the old vector of an upserted id is still found');
      const inNew = search(ix, old, K, { groups: ['moved'] });
      assert.deepEqual(
        inNew.map((h) => h.id),
        [id(7)],
      );
      // group(7) held 10 items; item-7 left it, so 9 pass and none of them is item-7.
      const inOld = search(ix, old, K, { groups: [group(7)] });
      assert.ok(inOld.length <= 9 && inOld.length > 0);
      assertFilterHolds(inOld, { groups: [group(7)] }, oracle, 'old group');
    });

    it('removed ids are never returned; remove reports presence', () => {
      const mx = mixture(41);
      const base = mx.sample(3000, 1);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      for (let i = 0; i < base.count; i += 3) {
        assert.equal(ix.remove(id(i)), true);
        oracle.remove(id(i));
      }
      assert.equal(ix.remove(id(0)), false, 'second remove of the same id');
      assert.equal(ix.remove('never-inserted'), false);
      assert.equal(ix.size(), oracle.size());
      assert.ok(!ix.has(id(3)) && ix.has(id(1)));
      for (let i = 0; i < 60; i += 1) {
        const q = row(base, i * 3); // a removed item's own vector: its nearest neighbour is gone
        const hits = search(ix, q, K);
        assert.equal(hits.length, K);
        assertFilterHolds(hits, {}, oracle, 'after remove');
      }
    });

    it('remove + reinsert churn never returns a removed id and keeps recall', () => {
      const mx = mixture(51);
      const base = mx.sample(2000, 1);
      const fresh = mx.sample(1200, 3);
      const queries = mx.sample(30, 2);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      const rng = new Rng(5);
      let next = 0;
      const removed: string[] = [];
      for (let round = 0; round < 4; round++) {
        const live = oracle.ids();
        for (let r = 0; r < 200; r++) {
          const victim = live[rng.int(live.length)];
          if (!oracle.has(victim)) continue;
          assert.equal(ix.remove(victim), true);
          oracle.remove(victim);
          removed.push(victim);
        }
        for (let r = 0; r < 150; r++) {
          const v = row(fresh, next++ % fresh.count);
          const reuse = r % 3 === 0 && removed.length > 0;
          const newId = reuse ? removed.splice(rng.int(removed.length), 1)[0] : `fresh-${round}-${r}`;
          ix.upsert(newId, v, group(r));
          oracle.upsert(newId, v, group(r));
        }
        assert.equal(ix.size(), oracle.size());
        const found: string[][] = [];
        const truth: string[][] = [];
        for (let i = 0; i < queries.count; i++) {
          const q = row(queries, i);
          const hits = search(ix, q, K);
          assertFilterHolds(hits, {}, oracle, `churn round ${round}`);
          for (const gone of removed) assert.ok(!ix.has(gone));
          found.push(hits.map((h) => h.id));
          truth.push(oracle.search(q, K).map((h) => h.id));
        }
        const r = recallAtK(found, truth, K);
        assert.ok(r >= minRecall - 0.05, `churn round ${round}: recall@10 ${r.toFixed(3)}`);
      }
      // A reinserted id is found at its new vector.
      const last = oracle.ids().slice(-1)[0];
      const hit = search(ix, oracle.vectorOf(last)!, K);
      assert.ok(
        hit.some((h) => h.id === last),
        `reinserted ${last} not found at its own vector`,
      );
    });

    it('group and excludeIds filters are never violated and return k when >= k items pass (incl. ~1% selectivity)', () => {
      const mx = mixture(61);
      const base = mx.sample(5000, 1);
      const queries = mx.sample(30, 2);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      // Cluster-correlated sparse group: 1% of the items, all from one region of space.
      const anchor = row(base, 0);
      const nearAnchor = oracle.search(anchor, 50).map((h) => h.id);
      for (const nid of nearAnchor) {
        const i = Number(nid.slice(5));
        ix.upsert(nid, row(base, i), 'local');
        oracle.upsert(nid, row(base, i), 'local');
      }
      for (let i = 0; i < queries.count; i++) {
        const q = row(queries, i);
        const top20 = oracle.search(q, 20).map((h) => h.id);
        const filters: SearchFilter[] = [
          { groups: [group(i)] }, // ~1% of the items, spread over all clusters
          { groups: ['local'] }, // ~1%, usually far from the query
          { groups: [group(i), group(i + 1)] },
          { excludeIds: top20 }, // the 20 true nearest are "already seen"
          { groups: [group(i)], excludeIds: top20 },
          { groups: ['local'], excludeIds: nearAnchor.slice(0, 40) }, // exactly 10 pass
          { groups: ['local'], excludeIds: nearAnchor.slice(0, 45) }, // 5 pass
          { groups: ['no-such-group'] },
        ];
        for (const f of filters) {
          const hits = search(ix, q, K, f);
          assertFilterHolds(hits, f, oracle, `filter ${JSON.stringify(f).slice(0, 60)}`);
          const pass = passCount(oracle, f);
          if (pass >= K) assert.equal(hits.length, K, `only ${hits.length} hits while ${pass} items pass ${JSON.stringify(f).slice(0, 60)}`);
          else assert.ok(hits.length <= pass);
        }
      }
    });

    it('k larger than the index returns every item; k = 0 returns none; wrong dimension throws', () => {
      const mx = mixture(71);
      const base = mx.sample(15, 1);
      const ix = make(DIM, 'l2');
      const oracle = new ExactIndex(DIM, 'l2');
      fill(base, ix, oracle);
      assert.equal(search(ix, row(base, 0), 50).length, 15);
      assert.equal(search(ix, row(base, 0), 0).length, 0);
      assert.throws(() => ix.upsert('bad', new Float32Array(DIM - 1)));
      assert.throws(() => ix.search(new Float32Array(DIM + 1), 3));
    });

    if (opts.load !== undefined) {
      const load = opts.load;
      it('snapshot save + load gives identical answers and stays mutable', async () => {
        const mx = mixture(81);
        const base = mx.sample(2000, 1);
        const queries = mx.sample(25, 2);
        const ix = make(DIM, 'cosine');
        const oracle = new ExactIndex(DIM, 'cosine');
        fill(base, ix, oracle);
        for (let i = 0; i < 2000; i += 7) {
          ix.remove(id(i));
          oracle.remove(id(i));
        }
        const dir = mkdtempSync(join(tmpdir(), 'ann-contract-'));
        tmpDirs.push(dir);
        await ix.save(dir);
        const back = await load(dir);
        assert.equal(back.kind, ix.kind);
        assert.equal(back.size(), ix.size());
        assert.equal(back.metric, 'cosine');
        assert.ok(!back.has(id(7)) && back.has(id(8)));
        for (let i = 0; i < queries.count; i++) {
          const q = row(queries, i);
          for (const f of [undefined, { groups: [group(i)] }, { excludeIds: [id(1), id(2)] }]) {
            const a = search(ix, q, K, f);
            const b = search(back, q, K, f);
            assert.deepEqual(
              b.map((h) => h.id),
              a.map((h) => h.id),
              `snapshot answers differ (query ${i})`,
            );
            for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j].distance - b[j].distance) < 1e-6);
          }
        }
        const v = row(mx.sample(1, 9), 0);
        back.upsert('after-load', v, 'late');
        assert.equal(search(back, v, 1)[0].id, 'after-load');
        assert.equal(back.remove(id(8)), true);
        assert.ok(!search(back, oracle.vectorOf(id(8))!, K).some((h) => h.id === id(8)));
      });
    }
  });
}
