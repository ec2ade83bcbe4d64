import assert from 'node:assert/strict';
import { GaussianStream, SplitMix64, detLog } from './prng';

describe('SplitMix64', () => {
  it('matches the published splitmix64 sequence for seed 0', () => {
    const r = new SplitMix64(0);
    // Reference outputs of splitmix64 seeded with 0 (Vigna's splitmix64.c).
    assert.equal(r.nextU64(), 0xe220a8397b1dcdafn);
    assert.equal(r.nextU64(), 0x6e789e6aa1b965f4n);
    assert.equal(r.nextU64(), 0x06c45d188009454fn);
  });

  it('gives uniform doubles in [0, 1) that are multiples of 2^-53', () => {
    const r = new SplitMix64(42);
    for (let i = 0; i < 1000; i++) {
      const u = r.nextDouble();
      assert.ok(u >= 0 && u < 1);
      assert.ok(Number.isInteger(u * 2 ** 53));
    }
  });

  it('rejects seeds outside uint64', () => {
    assert.throws(() => new SplitMix64(-1), RangeError);
    assert.throws(() => new SplitMix64(1n << 64n), RangeError);
  });
});

describe('detLog', () => {
  it('agrees with Math.log to a few ulp over many magnitudes', () => {
    const r = new SplitMix64(3);
    for (let i = 0; i < 2000; i++) {
      const x = r.nextDouble() * 2 ** (Math.floor(r.nextDouble() * 200) - 100) || 1e-10;
      const want = Math.log(x);
      assert.ok(Math.abs(detLog(x) - want) <= 4 * Number.EPSILON * Math.max(1, Math.abs(want)), `x=${x}`);
    }
    assert.equal(detLog(1), 0);
  });

  it('refuses non-positive input', () => {
    assert.throws(() => detLog(0), RangeError);
    assert.throws(() => detLog(-1), RangeError);
    assert.throws(() => detLog(NaN), RangeError);
  });
});

describe('GaussianStream', () => {
  it('draws standard normal deviates (moments of 200k draws)', () => {
    const g = new GaussianStream(new SplitMix64(9));
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < n; i++) {
      const x = g.next();
      s += x;
      s2 += x * x;
      s4 += x ** 4;
    }
    assert.ok(Math.abs(s / n) < 0.01);
    assert.ok(Math.abs(s2 / n - 1) < 0.02);
    assert.ok(Math.abs(s4 / n - 3) < 0.1);
  });

  it('is reproducible from the seed', () => {
    const a = new GaussianStream(new SplitMix64(5));
    const b = new GaussianStream(new SplitMix64(5));
    for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  });
});
