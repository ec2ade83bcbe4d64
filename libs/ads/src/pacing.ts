/**
 * Budget pacing: a per-campaign participation probability (throttle) from a feedback controller
 * on actual against target spend.
 *
 * Target: the cumulative spend curve budget x F(t), F the surface's cumulative traffic profile
 * (TrafficProfile.cumulative) at the fraction t of the campaign's day.
 *
 * Each control step the controller
 * 1. learns the campaign's full-participation spend per unit of traffic, rho = EWMA(spend of the
 *    step) / EWMA(participation x traffic share of the step) (a ratio of smoothed sums: steps
 *    without a billing event lower it gradually instead of zeroing it);
 * 2. plans the rest of the day: spreading the remaining budget over the remaining traffic needs
 *    participation p_ff = (remaining budget / remaining traffic share) / rho (feed-forward);
 * 3. corrects it with a PID term on the normalised spend error e = (target - actual) / budget:
 *    p = clamp(p_ff x exp(kp e + ki I + kd de), minRate, 1), with the integral I over traffic
 *    share frozen while p saturates (anti-windup).
 * It paces settled spend: a CPC win reserves a whole click price that mostly expires unbilled, so
 * counting reservations would underspend; the ledger, not the controller, keeps spend + reserved
 * within the budget.
 *
 * Spend gate: between steps the caller also stops bidding once the campaign's spend reaches
 * `allowance(F at the end of the step)` = budget x F + slack (slack = `gateSlack` x budget, at least
 * the caller's minimum, e.g. one billing event). The throttle sets the expected spend rate; the gate
 * bounds what chance adds to it inside a step (a lucky run of wins or clicks), which is what the
 * hourly spend error of a campaign with few billing events an hour is mostly made of.
 */
export interface PacingOptions {
  kp?: number;
  ki?: number;
  kd?: number;
  /** Lowest participation while budget remains (keeps learning rho). Default 0.001. */
  minRate?: number;
  /**
   * Memory of the spend and exposure averages behind rho, as a share of the day's traffic: a step
   * covering traffic share dF gets weight 1 - exp(-dF / memory), so the estimate does not depend on
   * how often the controller runs. Default 0.01 (about 15 minutes of average traffic).
   */
  memory?: number;
  /** Participation before the first observation. Default 1. */
  initialRate?: number;
  /** Spend gate slack, share of the daily budget above the target curve (see allowance). Default 0 (the caller's minimum: one billing event; chosen on a validation day, bench/ads/README.md); Infinity turns the gate off. */
  gateSlack?: number;
}

export interface PacingInput {
  /** F(t): cumulative traffic share of the day reached now, in [0, 1]. */
  targetFraction: number;
  /** Settled spend today. */
  spent: number;
  /** Daily budget. */
  budget: number;
}

export interface PacingState {
  rate: number;
  rho: number | null;
  /** EWMA of spend per step and of participation x traffic share per step (rho = spend / exposure). */
  spendAvg: number;
  exposureAvg: number;
  integral: number;
  lastError: number | null;
  lastF: number | null;
  lastSpent: number;
}

export class PacingController {
  private readonly kp: number;
  private readonly ki: number;
  private readonly kd: number;
  private readonly minRate: number;
  private readonly memory: number;
  private readonly gateSlack: number;
  private s: PacingState;

  constructor(opts: PacingOptions = {}, state?: PacingState) {
    this.kp = opts.kp ?? 8;
    this.ki = opts.ki ?? 4;
    this.kd = opts.kd ?? 0.5;
    this.minRate = opts.minRate ?? 0.001;
    this.memory = opts.memory ?? 0.01;
    this.gateSlack = opts.gateSlack ?? 0;
    this.s = state ? { ...state } : { rate: opts.initialRate ?? 1, rho: null, spendAvg: 0, exposureAvg: 0, integral: 0, lastError: null, lastF: null, lastSpent: 0 };
  }

  get rate(): number {
    return this.s.rate;
  }

  state(): PacingState {
    return { ...this.s };
  }

  /**
   * The spend gate: the most the campaign should have spent when the target curve reaches
   * `targetFraction` (the end of the current step): budget x F + max(gateSlack x budget, minSlack).
   * Never above the budget (the ledger refuses past it anyway).
   */
  allowance(targetFraction: number, budget: number, minSlack = 0): number {
    if (!Number.isFinite(this.gateSlack)) return budget;
    const F = Math.min(1, Math.max(0, targetFraction));
    return Math.min(budget, budget * F + Math.max(this.gateSlack * budget, minSlack));
  }

  /** A new day: spend and the error restart; what was learned about rho is kept. */
  resetDay(): void {
    this.s = { ...this.s, integral: 0, lastError: null, lastF: null, lastSpent: 0, rate: Math.max(this.s.rate, this.minRate) };
  }

  update(input: PacingInput): number {
    const { budget, spent } = input;
    const F = Math.min(1, Math.max(0, input.targetFraction));
    const s = this.s;
    if (!(budget > 0) || spent >= budget) {
      s.rate = 0;
      s.lastF = F;
      s.lastSpent = spent;
      return 0;
    }
    if (s.lastF !== null) {
      const dF = F - s.lastF;
      const dS = Math.max(0, spent - s.lastSpent);
      if (dF > 1e-9 && s.rate > 0) {
        const a = s.exposureAvg === 0 ? 1 : 1 - Math.exp(-dF / this.memory);
        s.spendAvg = (1 - a) * s.spendAvg + a * dS;
        s.exposureAvg = (1 - a) * s.exposureAvg + a * s.rate * dF;
        s.rho = s.spendAvg / s.exposureAvg;
      }
    }
    const remainingShare = Math.max(1e-6, 1 - F);
    const need = (budget - spent) / remainingShare;
    // Unknown rho: hold; nothing spent yet at this participation: double it (no jump to 1 on one quiet step).
    const ff = s.rho === null ? s.rate : s.rho > 0 ? need / s.rho : 2 * s.rate;
    const e = (budget * F - spent) / budget;
    const de = s.lastError === null ? 0 : e - s.lastError;
    const dF = s.lastF === null ? 0 : Math.max(0, F - s.lastF);
    const integral = s.integral + e * dF;
    const raw = ff * Math.exp(this.kp * e + this.ki * integral + this.kd * de);
    const rate = Math.min(1, Math.max(this.minRate, Number.isFinite(raw) ? raw : 1));
    // Anti-windup: integrate only while the output is not pinned at a bound.
    if (rate > this.minRate && rate < 1) s.integral = integral;
    s.rate = rate;
    s.lastError = e;
    s.lastF = F;
    s.lastSpent = spent;
    return rate;
  }
}

/**
 * Plain probabilistic throttling (the benchmark's baseline): a uniform-in-time plan, the
 * participation multiplied each step by planned / actual spend of the step, clamped to [min, 1].
 */
export class ProbabilisticThrottle {
  private lastSpent = 0;
  private lastT: number | null = null;
  rate: number;

  constructor(
    initialRate = 1,
    private readonly minRate = 0.001,
  ) {
    this.rate = initialRate;
  }

  update(dayFraction: number, spent: number, budget: number): number {
    if (spent >= budget) return (this.rate = 0);
    if (this.lastT !== null) {
      const dt = dayFraction - this.lastT;
      const planned = ((budget - this.lastSpent) * dt) / Math.max(1e-6, 1 - this.lastT);
      const actual = spent - this.lastSpent;
      const ratio = actual > 0 ? planned / actual : 2;
      this.rate = Math.min(1, Math.max(this.minRate, this.rate * Math.min(2, Math.max(0.5, ratio))));
    }
    this.lastT = dayFraction;
    this.lastSpent = spent;
    return this.rate;
  }
}
