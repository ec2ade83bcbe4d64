/**
 * An anytime-valid confidence sequence for the IPS value of a policy, by betting
 * (Waudby-Smith and Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 2023;
 * the off-policy form of Karampatziakis, Mineiro and Ramdas, "Off-policy confidence sequences",
 * ICML 2021, which VW's estimators library implements).
 *
 * With rewards rescaled to [0, 1] and importance weights w >= 0 with E[w] = 1 under the logging
 * policy, X = w r has mean v (the policy value) and Y = w (1 - r) has mean 1 - v. For each
 * candidate m on a grid, a gambler bets a fraction lambda_t in [0, c/m] on X - m > 0: its wealth
 * K_t(m) = prod (1 + lambda_t (X_t - m)) is a non-negative supermartingale when v <= m, so by
 * Ville's inequality it reaches 2/alpha with probability at most alpha/2, ever. Candidates whose
 * wealth got there are rejected for good: the lower bound is the smallest candidate not rejected.
 * The upper bound is the same construction on Y. The bets follow online Newton steps (the ONS
 * betting of Cutkosky and Orabona used by Waudby-Smith and Ramdas). The interval can be read after
 * every observation, as often as one likes, with no peeking penalty: P(exists t: v not in CS_t) <= alpha.
 */
export interface ConfidenceSequenceOptions {
  /** 1 - confidence. Default 0.05. */
  alpha?: number;
  /** Candidates per side (grid resolution is (max - min) / grid). Default 500. */
  grid?: number;
  /** Reward range; rewards are clipped into it. Default [0, 1]. */
  rewardRange?: [number, number];
  /** Largest bet as a fraction of 1/m (keeps 1 + lambda (X - m) >= 1 - c). Default 0.5. */
  maxBet?: number;
}

export interface CsInterval {
  lower: number;
  upper: number;
  /** Running IPS estimate (mean of w r). */
  estimate: number;
  n: number;
  level: number;
}

const ONS = 2 / (2 - Math.log(3));

class OneSided {
  readonly logWealth: Float64Array;
  readonly lambda: Float64Array;
  readonly sumG2: Float64Array;
  /** Smallest grid index not yet rejected (candidates below it are rejected). */
  firstAlive = 0;

  constructor(
    private readonly m: Float64Array,
    private readonly threshold: number,
    private readonly maxBet: number,
  ) {
    const g = m.length;
    this.logWealth = new Float64Array(g);
    this.lambda = new Float64Array(g);
    this.sumG2 = new Float64Array(g).fill(1);
  }

  update(x: number) {
    const { m, logWealth, lambda, sumG2 } = this;
    const g = m.length;
    let alive = g;
    for (let k = this.firstAlive; k < g; k++) {
      const z = x - m[k];
      const step = 1 + lambda[k] * z;
      logWealth[k] += Math.log(step);
      const grad = z / step;
      sumG2[k] += grad * grad;
      let l = lambda[k] + (ONS * grad) / sumG2[k];
      const cap = this.maxBet / m[k];
      l = l < 0 ? 0 : l > cap ? cap : l;
      lambda[k] = l;
      if (alive === g && logWealth[k] < this.threshold) alive = k;
    }
    // Rejected candidates stay rejected; the bound only moves up (a running intersection).
    if (alive > this.firstAlive) this.firstAlive = alive;
  }

  /** Lower bound on the mean in [0, 1]: 0 until the first candidate is rejected. */
  bound(): number {
    if (this.firstAlive === 0) return 0;
    return this.firstAlive >= this.m.length ? 1 : this.m[this.firstAlive - 1];
  }
}

export class IpsConfidenceSequence {
  private readonly lowerSide: OneSided;
  private readonly upperSide: OneSided;
  private readonly lo: number;
  private readonly span: number;
  private readonly alpha: number;
  private n = 0;
  private sum = 0;

  constructor(opts: ConfidenceSequenceOptions = {}) {
    this.alpha = opts.alpha ?? 0.05;
    const grid = opts.grid ?? 500;
    const [lo, hi] = opts.rewardRange ?? [0, 1];
    if (!(hi > lo)) throw new RangeError('rewardRange must be [min, max] with max > min');
    if (!(this.alpha > 0 && this.alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
    this.lo = lo;
    this.span = hi - lo;
    const m = new Float64Array(grid);
    for (let k = 0; k < grid; k++) m[k] = (k + 1) / grid;
    const threshold = Math.log(2 / this.alpha);
    const maxBet = opts.maxBet ?? 0.5;
    this.lowerSide = new OneSided(m, threshold, maxBet);
    this.upperSide = new OneSided(m, threshold, maxBet);
  }

  /** One logged round: w = pi_e(a|x) / pi_b(a|x) of the logged action, and its reward. */
  update(weight: number, reward: number): void {
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError('weight must be finite and >= 0');
    let r = (reward - this.lo) / this.span;
    r = r < 0 ? 0 : r > 1 ? 1 : r;
    this.n++;
    this.sum += weight * reward;
    this.lowerSide.update(weight * r);
    this.upperSide.update(weight * (1 - r));
  }

  interval(): CsInterval {
    const lower = this.lo + this.span * this.lowerSide.bound();
    const upper = this.lo + this.span * (1 - this.upperSide.bound());
    return { lower, upper: Math.max(upper, lower), estimate: this.n ? this.sum / this.n : NaN, n: this.n, level: 1 - this.alpha };
  }
}
