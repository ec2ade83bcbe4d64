import assert from 'node:assert/strict';
import { GaussianMixture, mulberry32, Rng, syntheticDataset } from './synthetic';
import { recallAtK } from './recall';

describe('synthetic data', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = syntheticDataset({ n: 200, queries: 10, dim: 8, seed: 1 });
    const b = syntheticDataset({ n: 200, queries: 10, dim: 8, seed: 1 });
    const c = syntheticDataset({ n: 200, queries: 10, dim: 8, seed: 2 });
    assert.deepEqual(a.base.data, b.base.data);
    assert.notDeepEqual(a.base.data, c.base.data);
    assert.notDeepEqual(a.base.data.subarray(0, 80), a.queries.data);
    const u = mulberry32(7);
    for (let i = 0; i < 1000; i++) {
      const x = u();
      assert.ok(x >= 0 && x < 1);
    }
  });

  it('normal draws have mean ~0 and variance ~1; mixture points sit near their centers', () => {
    const r = new Rng(3);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    assert.ok(Math.abs(s / n) < 0.03);
    assert.ok(Math.abs(s2 / n - 1) < 0.05);
    const mx = new GaussianMixture({ dim: 16, clusters: 4, spread: 0.5, centerScale: 3, seed: 9 });
    const pts = mx.sample(400, 1);
    let within = 0;
    for (let i = 0; i < pts.count; i++) {
      let best = Infinity;
      for (let c = 0; c < 4; c++) {
        let d = 0;
        for (let j = 0; j < 16; j++) d += (pts.data[i * 16 + j] - mx.centers[c * 16 + j]) ** 2;
        best = Math.min(best, d);
      }
      within += best / 16; // mean squared deviation per dimension
    }
    assert.ok(Math.abs(within / pts.count - 0.25) < 0.05, `per-dim variance ${within / pts.count}`);
  });

  it('recallAtK counts overlap of the first k ids', () => {
    assert.equal(recallAtK([[1, 2, 3]], [[3, 2, 9]], 3), 2 / 3);
    assert.equal(
      recallAtK(
        [
          ['a', 'b'],
          ['c', 'd'],
        ],
        [
          ['a', 'b'],
          ['x', 'y'],
        ],
        2,
      ),
      0.5,
    );
  });
});
