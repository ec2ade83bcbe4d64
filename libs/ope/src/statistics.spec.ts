// Statistical behaviour of the estimators on a synthetic bandit with a known truth: IPS and DR are
// unbiased (their mean over seeds is within its own interval of the truth), the 95% intervals cover
// at >= 93% over 500 replications, and the betting confidence sequence keeps the truth under
// continuous monitoring (every step read) in at least 95% of runs.
import { estimateAll, IpsConfidenceSequence, makeSyntheticBandit, mean, NumpyRandomState, sampleSd, sampleSyntheticFeedback, zCritical } from '@recsys/ope';

const bandit = makeSyntheticBandit(2024);

describe('OPE estimators on a synthetic bandit', () => {
  it('the synthetic evaluation policy differs from the logging policy (a real off-policy problem)', () => {
    const b = bandit;
    let loggingValue = 0;
    for (let k = 0; k < b.q.length; k++) loggingValue += (b.logging[k] * b.q[k]) / b.nContexts;
    expect(Math.abs(b.truth - loggingValue)).toBeGreaterThan(0.03);
  });

  it('IPS and DR are unbiased: the mean over 300 seeds is within its 99% interval of the truth; DM with a biased model is not', () => {
    const est: Record<string, number[]> = { ips: [], dr: [], dm: [] };
    for (let s = 0; s < 300; s++) {
      const d = sampleSyntheticFeedback(bandit, 400, 1000 + s, 0.15);
      for (const e of estimateAll(d, { estimators: ['ips', 'dr', 'dm'], bootstrap: false })) est[e.estimator].push(e.value);
    }
    const z = zCritical(0.01);
    for (const name of ['ips', 'dr']) {
      const m = mean(est[name]);
      const half = (z * sampleSd(est[name])) / Math.sqrt(est[name].length);
      expect({ name, inside: Math.abs(m - bandit.truth) <= half }).toEqual({ name, inside: true });
    }
    const dm = mean(est.dm);
    expect(Math.abs(dm - bandit.truth)).toBeGreaterThan((z * sampleSd(est.dm)) / Math.sqrt(300));
  });

  it('normal 95% intervals of IPS, SNIPS, DR, SNDR, Switch-DR and bootstrap intervals of IPS and DR cover the truth in >= 93% of 500 replications', () => {
    const names = ['ips', 'snips', 'dr', 'sndr', 'switch_dr'] as const;
    const hits: Record<string, number> = {};
    const bootHits: Record<string, number> = { ips: 0, dr: 0 };
    const R = 500;
    for (let s = 0; s < R; s++) {
      const d = sampleSyntheticFeedback(bandit, 800, 50_000 + s, 0.1);
      const res = estimateAll(d, { estimators: names, bootstrap: { n: 200, seed: s + 1 }, switchLambda: 1e9 });
      for (const e of res) {
        if (e.ci.lower <= bandit.truth && bandit.truth <= e.ci.upper) hits[e.estimator] = (hits[e.estimator] ?? 0) + 1;
        if (e.estimator in bootHits && e.bootstrap!.lower <= bandit.truth && bandit.truth <= e.bootstrap!.upper) bootHits[e.estimator]++;
      }
    }
    const coverage = Object.fromEntries(names.map((n) => [n, (hits[n] ?? 0) / R]));
    for (const n of names) expect({ n, ok: coverage[n] >= 0.93 }).toEqual({ n, ok: true });
    for (const n of Object.keys(bootHits)) expect({ n, ok: bootHits[n] / R >= 0.93 }).toEqual({ n, ok: true });
  });

  it('a 95% interval of IPS narrows like 1/sqrt(n)', () => {
    const w = (n: number) => {
      const e = estimateAll(sampleSyntheticFeedback(bandit, n, 7), { estimators: ['ips'], bootstrap: false })[0];
      return e.ci.upper - e.ci.lower;
    };
    const ratio = w(1000) / w(16000);
    expect(ratio).toBeGreaterThan(3);
    expect(ratio).toBeLessThan(5.5);
  });
});

describe('IpsConfidenceSequence (betting, anytime-valid)', () => {
  function runOnce(seed: number, steps: number, onStep: (lo: number, hi: number, t: number) => void) {
    const rs = new NumpyRandomState(seed);
    const b = bandit;
    const cs = new IpsConfidenceSequence({ alpha: 0.05, grid: 100 });
    for (let t = 0; t < steps; t++) {
      const x = rs.randint(b.nContexts);
      let u = rs.random();
      let a = b.nActions - 1;
      for (let k = 0; k < b.nActions; k++) {
        u -= b.logging[x * b.nActions + k];
        if (u < 0) {
          a = k;
          break;
        }
      }
      const r = rs.random() < b.q[x * b.nActions + a] ? 1 : 0;
      cs.update(b.evaluation[x * b.nActions + a] / b.logging[x * b.nActions + a], r);
      const i = cs.interval();
      onStep(i.lower, i.upper, t);
    }
    return cs.interval();
  }

  it('keeps the truth at every step of 200 monitored runs in >= 95% of them, and shrinks', () => {
    let violated = 0;
    const widths: number[] = [];
    for (let s = 0; s < 200; s++) {
      let bad = false;
      const end = runOnce(9000 + s, 1500, (lo, hi) => {
        if (lo > bandit.truth || hi < bandit.truth) bad = true;
      });
      if (bad) violated++;
      widths.push(end.upper - end.lower);
    }
    expect(violated / 200).toBeLessThanOrEqual(0.05);
    console.log(`CS: ${violated}/200 runs ever missed; mean final width ${mean(widths).toFixed(3)}`);
    expect(mean(widths)).toBeLessThan(0.4);
  });

  it('intervals are nested over time (a running intersection) and contain the running IPS estimate once it settles', () => {
    let prev = { lo: -Infinity, hi: Infinity };
    let nested = true;
    const end = runOnce(4242, 1500, (lo, hi) => {
      if (lo < prev.lo - 1e-12 || hi > prev.hi + 1e-12) nested = false;
      prev = { lo, hi };
    });
    expect(nested).toBe(true);
    expect(end.lower).toBeLessThanOrEqual(end.estimate);
    expect(end.upper).toBeGreaterThanOrEqual(end.estimate);
  });

  it('rejects bad input', () => {
    const cs = new IpsConfidenceSequence();
    expect(() => cs.update(-1, 0.5)).toThrow(RangeError);
    expect(() => new IpsConfidenceSequence({ rewardRange: [1, 1] })).toThrow(RangeError);
  });
});
