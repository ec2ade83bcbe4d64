import assert from 'node:assert/strict';
import { ExactIndex } from './exact.index';
import { vectorIndexContract } from './vector-index.contract';

// The oracle itself must be exact: recall 1.0 against itself is trivial, so the contract's
// distance checks (against an independent float64 computation) are what pin it down.
vectorIndexContract('ExactIndex', (dim, metric) => new ExactIndex(dim, metric, { initialCapacity: 16 }), {
  minRecall: 1,
  load: (dir) => ExactIndex.load(dir),
});

describe('ExactIndex specifics', () => {
  it('grows past its initial capacity and swap-remove keeps every other id findable', () => {
    const ix = new ExactIndex(2, 'l2', { initialCapacity: 16 });
    for (let i = 0; i < 100; i++) ix.upsert(`p${i}`, [i, 0]);
    assert.equal(ix.size(), 100);
    for (let i = 0; i < 100; i += 2) ix.remove(`p${i}`);
    for (let i = 1; i < 100; i += 2) {
      const [hit] = ix.search([i, 0], 1);
      assert.deepEqual(hit, { id: `p${i}`, distance: 0 });
    }
  });

  it('returns the true neighbours in order with hnswlib distance definitions', () => {
    const ix = new ExactIndex(2, 'l2');
    ix.upsert('a', [0, 0]);
    ix.upsert('b', [3, 4]);
    ix.upsert('c', [1, 1]);
    assert.deepEqual(ix.search([0, 0], 3), [
      { id: 'a', distance: 0 },
      { id: 'c', distance: 2 },
      { id: 'b', distance: 25 },
    ]);
    const ip = new ExactIndex(2, 'ip');
    ip.upsert('x', [2, 0]);
    ip.upsert('y', [0, 1]);
    assert.deepEqual(ip.search([1, 0], 2), [
      { id: 'x', distance: -1 },
      { id: 'y', distance: 1 },
    ]);
    const cos = new ExactIndex(2, 'cosine');
    cos.upsert('x', [10, 0]);
    cos.upsert('y', [1, 1]);
    const hits = cos.search([3, 0], 2);
    assert.equal(hits[0].id, 'x');
    assert.ok(Math.abs(hits[0].distance) < 1e-7);
    assert.ok(Math.abs(hits[1].distance - (1 - Math.SQRT1_2)) < 1e-6);
  });
});
