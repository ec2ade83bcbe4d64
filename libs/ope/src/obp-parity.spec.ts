import { mulberry32 } from '@recsys/ann/synthetic';
// Parity with Open Bandit Pipeline (obp 0.5.7, PyPI): every estimator's value, per-round
// contributions and seeded bootstrap interval equal obp's to 1e-9 on fixed arrays. The reference
// runs in the venv ops/parity/obp/setup.sh creates (Python 3.10: obp declares python < 3.11).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ESTIMATORS, estimateAll, iips, rips, NumpyRandomState, type BanditFeedback } from '@recsys/ope';

const ROOT = join(__dirname, '..', '..', '..');
const PY = join(ROOT, '.venv-obp', 'bin', 'python');
const REF = join(ROOT, 'ops', 'parity', 'obp', 'obp_ref.py');
const TOL = 1e-9;

// mulberry32 (libs/ann): fixed inputs without a dependency on any random library's stream.
const prng = mulberry32;

interface Case extends BanditFeedback {
  clipLambda: number;
  switchLambda: number;
  drosLambda: number;
  bootstrap: { n: number; seed: number; alpha: number };
}

function standardCase(seed: number, n: number, nActions: number, lenList: number, deterministic: boolean): Case {
  const u = prng(seed);
  const reward: number[] = [];
  const action: number[] = [];
  const pscore: number[] = [];
  const position: number[] = [];
  const actionDist: number[] = [];
  const qHat: number[] = [];
  for (let i = 0; i < n; i++) {
    // Evaluation policy per (round, position): a softmax of random logits, or one-hot.
    const dist = new Array(nActions * lenList).fill(0);
    for (let p = 0; p < lenList; p++) {
      const logits = Array.from({ length: nActions }, () => 3 * u());
      if (deterministic) {
        const best = logits.indexOf(Math.max(...logits));
        dist[best * lenList + p] = 1;
      } else {
        const z = logits.reduce((s, l) => s + Math.exp(l), 0);
        logits.forEach((l, a) => (dist[a * lenList + p] = Math.exp(l) / z));
      }
    }
    actionDist.push(...dist);
    for (let k = 0; k < nActions * lenList; k++) qHat.push(u());
    const a = Math.floor(u() * nActions);
    action.push(a);
    position.push(Math.floor(u() * lenList));
    // Logging propensities vary per round (including small ones, so clipping and switching act).
    pscore.push(0.02 + 0.5 * u());
    reward.push(u() < 0.3 ? 1 : 0);
  }
  return { reward, action, pscore, position, nActions, lenList, actionDist, qHat, clipLambda: 5, switchLambda: 8, drosLambda: 3, bootstrap: { n: 300, seed: 7 + seed, alpha: 0.05 } };
}

function slateCase(seed: number, nSlates: number, lenList: number) {
  const u = prng(seed);
  const slateId: number[] = [];
  const reward: number[] = [];
  const position: number[] = [];
  const pscoreItemPosition: number[] = [];
  const evalPscoreItemPosition: number[] = [];
  const pscoreCascade: number[] = [];
  const evalPscoreCascade: number[] = [];
  for (let s = 0; s < nSlates; s++) {
    let cb = 1;
    let ce = 1;
    // Slate ids out of order, as logs arrive: obp sums per slate in sorted-id order.
    const id = (s * 7919) % (nSlates * 3);
    for (let k = 0; k < lenList; k++) {
      const pb = 0.05 + 0.4 * u();
      const pe = 0.01 + 0.9 * u();
      cb *= pb;
      ce *= pe;
      slateId.push(id);
      position.push(k);
      reward.push(u() < 0.2 ? 1 : 0);
      pscoreItemPosition.push(pb);
      evalPscoreItemPosition.push(pe);
      pscoreCascade.push(cb);
      evalPscoreCascade.push(ce);
    }
  }
  return { slateId, reward, position, lenList, pscoreItemPosition, evalPscoreItemPosition, pscoreCascade, evalPscoreCascade, bootstrap: { n: 250, seed: 99, alpha: 0.1 } };
}

function runObp(input: unknown): any {
  if (!existsSync(PY)) throw new Error(`obp parity venv missing at ${PY}: run bash ops/parity/obp/setup.sh`);
  const out = execFileSync(PY, [REF], { input: JSON.stringify(input), maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(out);
}

const close = (a: number, b: number) => Math.abs(a - b) <= TOL;

describe('libs/ope parity with obp 0.5.7', () => {
  const standard = [standardCase(1, 400, 6, 3, false), standardCase(2, 250, 4, 1, true), standardCase(3, 300, 10, 2, false)];
  const slates = [slateCase(11, 150, 3), slateCase(12, 90, 5)];
  let ref: any;

  beforeAll(() => {
    ref = runObp({ standard, slate: slates, mt: { seed: 12345, n: 2000, pop: 37 } });
  });

  it('runs obp 0.5.7', () => {
    expect(ref.obpVersion).toBe('0.5.7');
  });

  it("draws numpy's RandomState stream (MT19937 words and choice indices)", () => {
    const rs = new NumpyRandomState(12345);
    const words = Array.from({ length: 2000 }, () => rs.uint32());
    expect(words).toEqual(ref.mt.uint32);
    expect(Array.from(new NumpyRandomState(12345).choice(37, 2000))).toEqual(ref.mt.choice);
  });

  standard.forEach((c, k) => {
    it(`case ${k}: every estimator's value, contributions and bootstrap interval equal obp's to 1e-9`, () => {
      const ours = estimateAll(c, { clipLambda: c.clipLambda, switchLambda: c.switchLambda, drosLambda: c.drosLambda, bootstrap: c.bootstrap });
      expect(ours.map((e) => e.estimator)).toEqual([...ESTIMATORS]);
      const failures: string[] = [];
      for (const e of ours) {
        const r = ref.standard[k][e.estimator];
        if (!close(e.value, r.value)) failures.push(`${e.estimator} value ${e.value} vs obp ${r.value}`);
        const worst = Math.max(...Array.from(e.contributions, (x, i) => Math.abs(x - r.contributions[i])));
        if (!(worst <= TOL)) failures.push(`${e.estimator} contributions differ by ${worst}`);
        for (const f of ['mean', 'lower', 'upper'] as const) {
          if (!close(e.bootstrap![f], r.bootstrap[f])) failures.push(`${e.estimator} bootstrap ${f} ${e.bootstrap![f]} vs obp ${r.bootstrap[f]}`);
        }
      }
      expect(failures).toEqual([]);
    });
  });

  it('clipping, switching and shrinkage change the estimate on these arrays (the parity cases exercise them)', () => {
    const [dr, cl, ips, sw, dros] = ['dr', 'clipped_ips', 'ips', 'switch_dr', 'dros'].map((n) => ref.standard[0][n].value);
    expect(Math.abs(cl - ips)).toBeGreaterThan(1e-6);
    expect(Math.abs(sw - dr)).toBeGreaterThan(1e-6);
    expect(Math.abs(dros - dr)).toBeGreaterThan(1e-6);
  });

  slates.forEach((s, k) => {
    it(`slate case ${k}: IIPS and RIPS values and bootstrap intervals equal obp's to 1e-9`, () => {
      const base = { slateId: s.slateId, reward: s.reward, position: s.position };
      const a = iips({ ...base, behaviorPscore: s.pscoreItemPosition, evaluationPscore: s.evalPscoreItemPosition }, { alpha: s.bootstrap.alpha, bootstrap: s.bootstrap });
      const b = rips({ ...base, behaviorPscore: s.pscoreCascade, evaluationPscore: s.evalPscoreCascade }, { alpha: s.bootstrap.alpha, bootstrap: s.bootstrap });
      for (const [ours, r] of [
        [a, ref.slate[k].iips],
        [b, ref.slate[k].rips],
      ] as const) {
        expect(Math.abs(ours.value - r.value)).toBeLessThanOrEqual(TOL);
        for (const f of ['mean', 'lower', 'upper'] as const) expect(Math.abs(ours.bootstrap![f] - r.bootstrap[f])).toBeLessThanOrEqual(TOL);
      }
      expect(Math.abs(a.value - b.value)).toBeGreaterThan(1e-6);
    });
  });
});
