import assert from 'node:assert/strict';
import { BucketTables, NORMALIZATIONS, snap } from './bucket-tables';
import { SdimHasher } from './hasher';
import { SplitMix64 } from './prng';
import { meanRowCosine, simhashKernelAttentionBatch, toRows } from './reference';
import { syntheticUser } from './synthetic';
import { loadTestVectors } from './test-vectors';

const tv = loadTestVectors();
const NORMS = NORMALIZATIONS;

/** Sum over rows of ||est_i - want_i|| / ||want_i|| (row-major [n][d]). */
function relativeErrorSum(est: Float64Array, want: Float64Array, d: number): number {
  let sum = 0;
  for (let i = 0; i < want.length / d; i++) {
    let e = 0;
    let w = 0;
    for (let k = 0; k < d; k++) {
      e += (est[i * d + k] - want[i * d + k]) ** 2;
      w += want[i * d + k] ** 2;
    }
    sum += Math.sqrt(e / w);
  }
  return sum;
}

function tablesOf(h: SdimHasher, xs: ArrayLike<number>[]): BucketTables {
  const t = new BucketTables(h);
  for (const x of xs) t.add(x as number[]);
  return t;
}

describe('BucketTables', () => {
  const h = new SdimHasher(tv.config);

  it('gives the counts and interest vectors of the shared test vectors, exactly', () => {
    const t = tablesOf(h, tv.behaviors);
    assert.deepEqual(Array.from(t.counts), tv.counts);
    assert.equal(t.size, tv.behaviors.length);
    for (const norm of NORMS) {
      const got = t.interestBatch(tv.candidates, { normalize: norm });
      tv.interest[norm].forEach((row, i) => row.forEach((v, k) => assert.ok(Object.is(got[i * tv.config.d + k], v), `${norm}[${i}][${k}]`)));
    }
  });

  it('add then remove returns the tables to their previous state, bit for bit', () => {
    const u = syntheticUser({ seed: 11, d: 16, length: 400, candidates: 0 });
    const t = tablesOf(h, u.history.slice(0, 150));
    const before = t.clone();
    const extra = u.history.slice(150);
    for (const x of extra) t.add(x);
    assert.ok(!t.equals(before));
    // Remove in a different order than added: exactness does not depend on order.
    const rng = new SplitMix64(4);
    const order = extra.map((x) => ({ x, r: rng.nextDouble() })).sort((a, b) => a.r - b.r);
    for (const { x } of order) t.remove(x);
    assert.ok(t.equals(before));
    // Down to empty: every sum is exactly +0.
    for (const x of u.history.slice(0, 150)) t.remove(x);
    assert.ok(t.equals(new BucketTables(h)));
    assert.ok(t.sums.every((v) => Object.is(v, 0)));
  });

  it('does not depend on the order of the behaviours', () => {
    const u = syntheticUser({ seed: 12, d: 16, length: 300, candidates: 0 });
    const a = tablesOf(h, u.history);
    const b = tablesOf(h, [...u.history].reverse());
    assert.ok(a.equals(b));
  });

  it('snaps components to the 2^-16 grid (round half up)', () => {
    assert.equal(snap(0.1), Math.round(0.1 * 2 ** 16) / 2 ** 16);
    assert.equal(snap(2 ** -18), 0);
    assert.equal(snap(-(2 ** -17)), 0);
    assert.equal(snap(2 ** -17), 2 ** -16);
    assert.equal(snap(-0.75), -0.75);
  });

  it('refuses a remove of a behaviour that was never added, leaving the tables untouched', () => {
    const t = tablesOf(h, tv.behaviors.slice(0, 2));
    const before = t.clone();
    const sigs = h.signatures(tv.behaviors[0]);
    const other = Array.from(sigs, (s) => s); // same buckets as behaviour 0, except group 5 points to an empty one
    const j = 5;
    for (let c = 0; c < 8; c++) if (t.counts[j * 8 + c] === 0) other[j] = c;
    assert.throws(() => t.remove(tv.behaviors[0], other), /empty bucket/);
    assert.ok(t.equals(before));
    assert.throws(() => t.add([Infinity, ...new Array(15).fill(0)]), RangeError);
    assert.throws(() => t.add(new Array(16).fill(2000)), RangeError);
    assert.ok(t.equals(before));
  });

  it('accepts precomputed signatures and gives the same tables', () => {
    const a = tablesOf(h, tv.behaviors);
    const b = new BucketTables(h);
    tv.behaviors.forEach((x, i) => b.add(x, tv.behaviorSignatures[i]));
    assert.ok(a.equals(b));
  });

  it('batch interest equals single interest for every normalisation', () => {
    const t = tablesOf(h, tv.behaviors);
    for (const norm of NORMS) {
      const batch = t.interestBatch(tv.candidates, { normalize: norm });
      tv.candidates.forEach((c, i) => assert.deepEqual(batch.subarray(i * 16, (i + 1) * 16), t.interest(c, { normalize: norm })));
    }
  });

  it('empty tables give the zero vector; l2 interest has norm <= 1', () => {
    const empty = new BucketTables(h);
    assert.ok(empty.interest(tv.candidates[0]).every((v) => v === 0));
    const t = tablesOf(h, tv.behaviors);
    for (const c of tv.candidates) {
      const v = t.interest(c, { normalize: 'l2' });
      assert.ok(Math.hypot(...v) <= 1 + 1e-12);
    }
  });

  it('converges to the SimHash-kernel attention as m grows', () => {
    const d = 16;
    const rel: Record<number, number> = {};
    const cos: Record<number, number> = {};
    for (const m of [48, 480, 4800]) {
      let relSum = 0;
      let cosSum = 0;
      let n = 0;
      for (const seed of [1, 2, 3]) {
        const u = syntheticUser({ seed: 100 + seed, d, length: 200, candidates: 20 });
        const hm = new SdimHasher({ seed, m, tau: 3, d });
        const t = tablesOf(hm, u.history);
        const rows = toRows(u.history, d);
        // 'none' is an unbiased estimator of the kernel-weighted sum: its relative error shrinks like 1/sqrt(m/tau).
        const est = t.interestBatch(u.candidates, { normalize: 'none' });
        relSum += relativeErrorSum(est, simhashKernelAttentionBatch(u.candidates, rows, 3, { weights: 'sum' }), d);
        n += u.candidates.length;
        const l2 = t.interestBatch(u.candidates, { normalize: 'l2' });
        cosSum += meanRowCosine(l2, simhashKernelAttentionBatch(u.candidates, rows, 3), d);
      }
      rel[m] = relSum / n;
      cos[m] = cosSum / 3;
    }
    assert.ok(rel[48] > 2 * rel[480] && rel[480] > 2 * rel[4800], JSON.stringify(rel));
    assert.ok(rel[4800] < 0.06, JSON.stringify(rel));
    assert.ok(cos[48] < cos[480] && cos[480] < cos[4800], JSON.stringify(cos));
    // 'l2' normalises each group before averaging: it converges to E[b/|b|] whose direction is close to,
    // but not exactly, that of E[b] (the ratio bias does not vanish with m, only with more collisions).
    assert.ok(cos[48] > 0.9 && cos[4800] > 0.97, JSON.stringify(cos));
  });

  it("'pooled' converges to the kernel-weighted mean itself, scale included, as m grows", () => {
    const d = 16;
    const rel: Record<number, number> = {};
    for (const m of [48, 480, 4800]) {
      let relSum = 0;
      let n = 0;
      for (const seed of [1, 2, 3]) {
        const u = syntheticUser({ seed: 200 + seed, d, length: 200, candidates: 20 });
        const t = tablesOf(new SdimHasher({ seed, m, tau: 3, d }), u.history);
        const est = t.interestBatch(u.candidates, { normalize: 'pooled' });
        relSum += relativeErrorSum(est, simhashKernelAttentionBatch(u.candidates, toRows(u.history, d), 3), d);
        n += u.candidates.length;
      }
      rel[m] = relSum / n;
    }
    assert.ok(rel[48] > 2 * rel[480] && rel[480] > 2 * rel[4800], JSON.stringify(rel));
    assert.ok(rel[4800] < 0.06, JSON.stringify(rel));
  });

  it("'pooled' is the mean of the behaviours sharing a signature with the candidate, counted once per shared group", () => {
    const u = syntheticUser({ seed: 31, d: 16, length: 60, candidates: 6 });
    const t = tablesOf(h, u.history);
    const got = t.interestBatch(u.candidates, { normalize: 'pooled' });
    u.candidates.forEach((q, i) => {
      const qs = h.signatures(q);
      const want = new Float64Array(16);
      let n = 0;
      for (const x of u.history) {
        const xs = h.signatures(x);
        for (let j = 0; j < h.groups; j++) {
          if (xs[j] !== qs[j]) continue;
          n++;
          for (let k = 0; k < 16; k++) want[k] += snap(x[k]);
        }
      }
      assert.ok(n > 0);
      for (let k = 0; k < 16; k++) assert.ok(Math.abs(got[i * 16 + k] - want[k] / n) < 1e-12, `${i} ${k}`);
    });
    // A candidate whose every selected bucket is empty gets the zero vector (not 0/0).
    const lone = tablesOf(h, [u.history[0]]);
    const far = u.history[0].map((x) => -x);
    const sig0 = h.signatures(u.history[0]);
    const sigFar = h.signatures(far);
    assert.ok(Array.from(sig0).every((s, j) => s !== sigFar[j]));
    assert.deepEqual(Array.from(lone.interest(far, { normalize: 'pooled' })), new Array(16).fill(0));
  });
});
