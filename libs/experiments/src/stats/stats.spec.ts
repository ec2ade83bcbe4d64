import { gaussian, rng } from '../testing/synthetic';
import { bayesianTest, gaussianRisk } from './bayesian';
import { sequentialTest, twoSidedTest } from './frequentist';
import { benjaminiHochbergAdjust, holmAdjust } from './multiple';
import { srmCheck } from './srm';
import { meanStat, raStat, type SampleMeanStat } from './statistics';

function sums(xs: number[]): SampleMeanStat {
  let s = 0,
    q = 0;
  for (const x of xs) {
    s += x;
    q += x * x;
  }
  return meanStat(xs.length, s, q);
}

describe('sample-ratio mismatch', () => {
  it('fires at 52/48 on a 50/50 split with n = 100,000 and not at 50/50', () => {
    const skewed = srmCheck([52_000, 48_000], [0.5, 0.5]);
    expect(skewed.alarm).toBe(true);
    expect(skewed.pValue).toBeLessThan(1e-30);
    const fair = srmCheck([50_000, 50_000], [0.5, 0.5]);
    expect(fair.alarm).toBe(false);
    expect(fair.pValue).toBeCloseTo(1, 12);
    // Sampling noise of a fair split does not alarm either (binomial draw of 100,000 users).
    const r = rng(3);
    let a = 0;
    for (let i = 0; i < 100_000; i++) if (r() < 0.5) a++;
    expect(srmCheck([a, 100_000 - a], [0.5, 0.5]).alarm).toBe(false);
  });
});

describe('CUPED', () => {
  it.each([0.3, 0.6, 0.9])('reduces the variance of the lift by the known correlation (rho = %s): Var_cuped / Var = 1 - rho^2', (rho) => {
    const z = gaussian(rng(Math.round(rho * 100)));
    const arm = (n: number, effect: number) => {
      const pre: number[] = [];
      const post: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = z();
        pre.push(10 + x);
        post.push(20 + effect + rho * x + Math.sqrt(1 - rho * rho) * z());
      }
      let pp = 0;
      for (let i = 0; i < n; i++) pp += pre[i] * post[i];
      return { plain: sums(post), ra: raStat(n, sums(post), sums(pre), pp) };
    };
    const a = arm(40_000, 0);
    const b = arm(40_000, 0.05);
    const plain = twoSidedTest(a.plain, b.plain, { differenceType: 'absolute' });
    const cuped = twoSidedTest(a.ra, b.ra, { differenceType: 'absolute' });
    const ratio = cuped.stddev ** 2 / plain.stddev ** 2;
    expect(Math.abs(ratio - (1 - rho * rho))).toBeLessThan(0.02);
    // Unbiased: both estimate the same effect.
    expect(Math.abs(cuped.expected - 0.05)).toBeLessThan(4 * cuped.stddev);
  });
});

describe('sequential testing (GAVI confidence sequences)', () => {
  it('covers the true effect at every peek in >= 95% of experiments; fixed-horizon intervals under the same peeking do not', () => {
    const runs = 300;
    const perArm = 3000;
    const peekEvery = 50;
    const truth = 0.2;
    const z = gaussian(rng(11));
    let csMiss = 0;
    let fixedMiss = 0;
    for (let run = 0; run < runs; run++) {
      let sa = 0,
        qa = 0,
        sb = 0,
        qb = 0;
      let csFailed = false;
      let fixedFailed = false;
      for (let i = 1; i <= perArm; i++) {
        const xa = 5 + 2 * z();
        const xb = 5 + truth + 2 * z();
        sa += xa;
        qa += xa * xa;
        sb += xb;
        qb += xb * xb;
        if (i % peekEvery !== 0) continue;
        const A = meanStat(i, sa, qa);
        const B = meanStat(i, sb, qb);
        const cs = sequentialTest(A, B, { differenceType: 'absolute' }).ci;
        const fx = twoSidedTest(A, B, { differenceType: 'absolute' }).ci;
        if (truth < cs[0] || truth > cs[1]) csFailed = true;
        if (truth < fx[0] || truth > fx[1]) fixedFailed = true;
      }
      if (csFailed) csMiss++;
      if (fixedFailed) fixedMiss++;
    }
    expect(1 - csMiss / runs).toBeGreaterThanOrEqual(0.95);
    expect(1 - fixedMiss / runs).toBeLessThan(0.9); // peeking breaks fixed-horizon intervals: the simulation can tell
  });

  it('is wider than the fixed-horizon interval and its p-value is larger', () => {
    const a = meanStat(5000, 5000 * 10, 5000 * 104);
    const b = meanStat(5000, 5000 * 10.1, 5000 * 106);
    const s = sequentialTest(a, b);
    const f = twoSidedTest(a, b);
    expect(s.ci[1] - s.ci[0]).toBeGreaterThan(f.ci[1] - f.ci[0]);
    expect(s.pValue).toBeGreaterThan(f.pValue);
    expect(s.expected).toBe(f.expected);
  });
});

describe('frequentist and Bayesian basics', () => {
  it('Welch t and z agree for large samples; the relative lift interval brackets the lift', () => {
    const a = meanStat(100_000, 100_000 * 2, 100_000 * 8);
    const b = meanStat(100_000, 100_000 * 2.02, 100_000 * 8.2);
    const t = twoSidedTest(a, b);
    const z = twoSidedTest(a, b, { distribution: 'z' });
    expect(t.expected).toBeCloseTo(0.01, 12);
    expect(Math.abs(t.pValue - z.pValue)).toBeLessThan(1e-4);
    expect(t.ci[0]).toBeLessThan(0.01);
    expect(t.ci[1]).toBeGreaterThan(0.01);
  });

  it('chance to win is 1/2 at no difference and the risks are symmetric', () => {
    const a = meanStat(1000, 1000, 3000);
    const r = bayesianTest(a, a);
    expect(r.chanceToWin).toBeCloseTo(0.5, 12);
    expect(r.risk[0]).toBeCloseTo(r.risk[1], 12);
    const [rc, rt] = gaussianRisk(0.02, 0.01);
    expect(rc - rt).toBeCloseTo(0.02, 12); // E[max(X,0)] - E[max(-X,0)] = E[X]
  });
});

describe('multiple-testing corrections', () => {
  it('Holm and Benjamini-Hochberg give the textbook values', () => {
    expect(holmAdjust([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    const bh = benjaminiHochbergAdjust([0.01, 0.04, 0.03, 0.5]);
    [0.04, 0.0533333333, 0.0533333333, 0.5].forEach((x, i) => expect(bh[i]).toBeCloseTo(x, 8));
  });
});
