import assert from 'node:assert/strict';
import { cosine, simhashCollisionProbability, simhashKernelAttention, targetAttention } from './reference';

describe('references', () => {
  const hist = [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
  ];

  it('target attention: softmax of q.x/sqrt(d), sharp at low temperature, uniform for q = 0', () => {
    const sharp = targetAttention([10, 0, 0, 0], hist, { temperature: 0.01 });
    assert.ok(Math.abs(sharp[0] - 1) < 1e-9 && Math.abs(sharp[1]) < 1e-9);
    const uniform = targetAttention([0, 0, 0, 0], hist);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(uniform[k] - 1 / 3) < 1e-12);
    // Default scaling: weights exp(q.x / 2) for d = 4.
    const w = targetAttention([2, 0, 0, 0], hist);
    const e = Math.exp(1);
    assert.ok(Math.abs(w[0] - e / (e + 2)) < 1e-12);
    assert.deepEqual(Array.from(targetAttention([1, 0, 0, 0], [])), [0, 0, 0, 0]);
  });

  it('kernel weights are (1 - angle/pi)^tau', () => {
    assert.equal(simhashCollisionProbability(1, 3), 1);
    assert.equal(simhashCollisionProbability(-1, 3), 0);
    assert.ok(Math.abs(simhashCollisionProbability(0, 3) - 0.125) < 1e-15);
    // q along x0: weights 1, 1/8, 1/8 -> mean weights 0.8, 0.1, 0.1.
    const k = simhashKernelAttention([3, 0, 0, 0], hist, 3);
    assert.ok(Math.abs(k[0] - 0.8) < 1e-12 && Math.abs(k[1] - 0.1) < 1e-12 && Math.abs(k[2] - 0.1) < 1e-12);
    const s = simhashKernelAttention([3, 0, 0, 0], hist, 3, { weights: 'sum' });
    assert.ok(Math.abs(s[0] - 1) < 1e-12 && Math.abs(s[1] - 0.125) < 1e-12);
  });

  it('cosine', () => {
    assert.equal(cosine([1, 0], [2, 0]), 1);
    assert.equal(cosine([1, 0], [0, 0]), 0);
    assert.ok(Math.abs(cosine([1, 1], [1, 0]) - Math.SQRT1_2) < 1e-15);
  });
});
