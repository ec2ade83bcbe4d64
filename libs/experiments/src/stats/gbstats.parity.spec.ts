/**
 * Parity with gbstats 0.8.0 (GrowthBook's own stats engine, PyPI): the same aggregates go to
 * both engines and every figure must agree to 1e-6. The reference runs through the venv made by
 * ops/parity/gbstats/setup.sh; without it this spec fails (never skips).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gaussian, poisson, rng } from '../testing/synthetic';
import { bayesianTest, type BayesianOptions } from './bayesian';
import { sequentialTest, twoSidedTest, type FrequentistOptions } from './frequentist';
import { benjaminiHochbergAdjust, holmAdjust } from './multiple';
import { srmPValue } from './srm';
import { meanStat, proportionStat, raStat, ratioStat, type Stat } from './statistics';

const ROOT = join(__dirname, '../../../..');
const PY = join(ROOT, '.venv-gbstats/bin/python');
const SCRIPT = join(ROOT, 'ops/parity/gbstats/reference.py');
const TOL = 1e-6;

type Case =
  { test: 'ttest' | 'sequential' | 'bayesian'; a: Stat; b: Stat; options: Record<string, unknown> } | { test: 'srm'; users: number[]; weights: number[] } | { test: 'holm' | 'bh'; p: number[] };

/** Per-user data of one arm: a continuous metric with a correlated pre-period covariate, a count ratio, a conversion. */
function arm(seed: number, n: number, lift: number) {
  const u = rng(seed);
  const z = gaussian(u);
  let s = 0,
    q = 0,
    ps = 0,
    pq = 0,
    pp = 0,
    conv = 0,
    ms = 0,
    mq = 0,
    ds = 0,
    dq = 0,
    md = 0;
  for (let i = 0; i < n; i++) {
    const pre = Math.max(0, 3 + 2 * z());
    const y = Math.max(0, (0.6 * pre + 1 + z()) * (1 + lift));
    s += y;
    q += y * y;
    ps += pre;
    pq += pre * pre;
    pp += y * pre;
    const d = 1 + poisson(u, 8);
    const m = poisson(u, 0.4 * d * (1 + lift));
    ms += m;
    mq += m * m;
    ds += d;
    dq += d * d;
    md += m * d;
    if (u() < 0.1 * (1 + lift)) conv++;
  }
  return {
    mean: meanStat(n, s, q),
    proportion: proportionStat(n, conv),
    ratio: ratioStat(n, meanStat(n, ms, mq), meanStat(n, ds, dq), md),
    ra: raStat(n, meanStat(n, s, q), meanStat(n, ps, pq), pp),
  };
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const setups: Array<[number, number, number, number]> = [
    [1, 2000, 2100, 0.03],
    [2, 500, 480, 0],
    [3, 10000, 9900, -0.02],
    [4, 60, 75, 0.1],
  ];
  for (const [seed, na, nb, lift] of setups) {
    const A = arm(seed * 101, na, 0);
    const B = arm(seed * 101 + 50, nb, lift);
    for (const kind of ['mean', 'proportion', 'ratio', 'ra'] as const) {
      for (const differenceType of ['relative', 'absolute']) {
        cases.push({ test: 'ttest', a: A[kind], b: B[kind], options: { differenceType } });
        cases.push({ test: 'ttest', a: A[kind], b: B[kind], options: { differenceType, alpha: 0.1 } });
        cases.push({ test: 'sequential', a: A[kind], b: B[kind], options: { differenceType } });
        cases.push({ test: 'sequential', a: A[kind], b: B[kind], options: { differenceType, tuning: 500, alpha: 0.1 } });
        cases.push({ test: 'bayesian', a: A[kind], b: B[kind], options: { differenceType } });
        cases.push({ test: 'bayesian', a: A[kind], b: B[kind], options: { differenceType, inverse: true } });
      }
      cases.push({ test: 'bayesian', a: A[kind], b: B[kind], options: { differenceType: 'relative', prior: { mean: 0.01, variance: 0.0025, proper: true } } });
    }
  }
  // Edge cases: zero baseline, zero variance.
  cases.push({ test: 'ttest', a: meanStat(100, 0, 0), b: meanStat(100, 5, 9), options: {} });
  cases.push({ test: 'bayesian', a: meanStat(100, 0, 0), b: meanStat(100, 5, 9), options: {} });
  cases.push({ test: 'ttest', a: meanStat(100, 100, 100), b: meanStat(100, 120, 200), options: {} });
  cases.push({ test: 'sequential', a: proportionStat(100, 100), b: proportionStat(100, 90), options: {} });
  // SRM: balanced, mildly and strongly unbalanced, three arms, a zero-weight arm.
  cases.push({ test: 'srm', users: [50000, 50000], weights: [0.5, 0.5] });
  cases.push({ test: 'srm', users: [52000, 48000], weights: [0.5, 0.5] });
  cases.push({ test: 'srm', users: [5030, 4970], weights: [0.5, 0.5] });
  cases.push({ test: 'srm', users: [3300, 3400, 3250], weights: [1, 1, 1] });
  cases.push({ test: 'srm', users: [2000, 8100, 0], weights: [0.2, 0.8, 0] });
  const pv = [0.001, 0.04, 0.03, 0.2, 0.5, 0.012, 0.049, 0.8, 0.0004, 0.3];
  cases.push({ test: 'holm', p: pv }, { test: 'bh', p: pv }, { test: 'bh', p: [0.01, 0.01, 0.02, 0.9] }, { test: 'holm', p: [0.01, 0.01, 0.02, 0.9] });
  return cases;
}

function ours(c: Case): Record<string, unknown> {
  switch (c.test) {
    case 'ttest':
      return { ...twoSidedTest(c.a, c.b, c.options as FrequentistOptions) };
    case 'sequential':
      return { ...sequentialTest(c.a, c.b, c.options as FrequentistOptions) };
    case 'bayesian':
      return { ...bayesianTest(c.a, c.b, c.options as BayesianOptions) };
    case 'srm':
      return { pValue: srmPValue(c.users, c.weights) };
    case 'holm':
      return { adjusted: holmAdjust(c.p) };
    case 'bh':
      return { adjusted: benjaminiHochbergAdjust(c.p) };
  }
}

function compare(path: string, mine: unknown, ref: unknown, errors: string[]) {
  if (ref === null || ref === undefined) return;
  if (Array.isArray(ref)) {
    ref.forEach((r, i) => compare(`${path}[${i}]`, (mine as unknown[])?.[i], r, errors));
    return;
  }
  if (typeof ref === 'string' && (ref === 'inf' || ref === '-inf')) {
    if (mine !== (ref === 'inf' ? Infinity : -Infinity)) errors.push(`${path}: ${mine} vs ${ref}`);
    return;
  }
  if (typeof ref === 'number') {
    const m = mine as number;
    if (!(Math.abs(m - ref) <= TOL * Math.max(1, Math.abs(ref)))) errors.push(`${path}: ours ${m} gbstats ${ref} (diff ${Math.abs(m - ref)})`);
  }
}

describe('statistics equal gbstats 0.8.0 to 1e-6 on the same aggregates', () => {
  const cases = buildCases();
  let refs: Array<Record<string, unknown>>;

  beforeAll(() => {
    if (!existsSync(PY)) throw new Error(`${PY} missing: run ops/parity/gbstats/setup.sh (npm test does) before this spec`);
    const out = execFileSync(PY, [SCRIPT], { input: JSON.stringify(cases), maxBuffer: 64 << 20, timeout: 60_000 });
    refs = JSON.parse(out.toString());
  });

  it(`computes the same figures for ${cases.length} cases (t test, sequential, Bayesian, CUPED, ratio, SRM, Holm, BH)`, () => {
    expect(refs).toHaveLength(cases.length);
    const errors: string[] = [];
    let compared = 0;
    cases.forEach((c, i) => {
      const mine = ours(c);
      const ref = refs[i];
      for (const [k, v] of Object.entries(ref)) {
        if (k === 'errorMessage') {
          if ((v ?? undefined) !== (mine.errorMessage ?? undefined)) errors.push(`case ${i} ${c.test} errorMessage: ${String(mine.errorMessage)} vs ${String(v)}`);
          continue;
        }
        compare(`case ${i} ${c.test}${'a' in c ? `(${c.a.kind})` : ''}.${k}`, mine[k], v, errors);
        compared++;
      }
    });
    expect(errors).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  });

  it('reproduces non-trivial results (the parity is not over zeros)', () => {
    const lifts = cases.map((c, i) => (c.test === 'ttest' ? (refs[i].expected as number) : 0)).filter((x) => x !== 0);
    expect(lifts.length).toBeGreaterThan(20);
    const ctw = cases.map((c, i) => (c.test === 'bayesian' ? (refs[i].chanceToWin as number) : 0.5));
    expect(ctw.some((x) => x > 0.9)).toBe(true);
    expect(ctw.some((x) => x < 0.5)).toBe(true);
  });
});
