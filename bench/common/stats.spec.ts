import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, median, percentile, quantile, quantiles, quantileSorted, summarize } from './stats';

/**
 * Expected figures come from numpy (fixtures/numpy-quantiles.json, written by numpy.quantile with
 * its default method='linear'; the generating numpy version is recorded in the file).
 */
const fx = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'numpy-quantiles.json'), 'utf8')) as {
  q: number[];
  cases: Record<string, { values: number[]; numpy: number[] }>;
};

describe('bench/common/stats: numpy default (linear, type 7) quantiles', () => {
  for (const [name, c] of Object.entries(fx.cases)) {
    it(`matches numpy.quantile on ${name} (${c.values.length} values)`, () => {
      fx.q.forEach((q, i) => expect(quantile(c.values, q)).toBeCloseTo(c.numpy[i], 10));
      expect(quantiles(c.values, fx.q).map((x) => +x.toFixed(10))).toEqual(c.numpy.map((x) => +x.toFixed(10)));
      fx.q.forEach((q, i) => expect(percentile(c.values, q * 100)).toBeCloseTo(c.numpy[i], 10));
    });
  }

  it('interpolates linearly between ranks: median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantileSorted(Float64Array.from([0, 10, 20, 30]), 1 / 3)).toBeCloseTo(10, 12);
  });

  it('does not modify its input and sorts numerically (not as strings)', () => {
    const xs = [10, 9, 100, 1];
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile(xs, 0)).toBe(1);
    expect(xs).toEqual([10, 9, 100, 1]);
  });

  it('rejects an empty sample and q outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
    expect(() => quantile([1], -0.1)).toThrow(RangeError);
    expect(() => quantile([1], NaN)).toThrow(RangeError);
    expect(() => mean([])).toThrow(RangeError);
  });

  it('summarize gives n, mean, min, p50, p90, p99, max from the same definition', () => {
    const c = fx.cases.lognormal101;
    const s = summarize(c.values);
    expect(s.n).toBe(101);
    expect(s.min).toBe(c.numpy[fx.q.indexOf(0)]);
    expect(s.max).toBe(c.numpy[fx.q.indexOf(1)]);
    expect(s.p50).toBeCloseTo(c.numpy[fx.q.indexOf(0.5)], 10);
    expect(s.p90).toBeCloseTo(c.numpy[fx.q.indexOf(0.9)], 10);
    expect(s.p99).toBeCloseTo(c.numpy[fx.q.indexOf(0.99)], 10);
    expect(s.mean).toBeCloseTo(c.values.reduce((a, b) => a + b, 0) / 101, 12);
  });
});
