/**
 * The traffic profile of a surface over a day: the share of a day's impressions that falls in each
 * of `buckets` equal periods (24 = hourly), learned from recent impressions with exponential
 * forgetting. Uniform until it has seen `minObservations` impressions. The pacing target curve of
 * a campaign is its daily budget times the cumulative profile.
 */
export interface TrafficProfileOptions {
  buckets?: number;
  /** Weight of what was learned before each new day: 0 = only today, 0.7 = a week-ish memory. Default 0.7. */
  dayDecay?: number;
  /** Below this many impressions (decayed), the profile stays uniform. Default 1000. */
  minObservations?: number;
  /** Share of the uniform curve mixed in (keeps every bucket reachable). Default 0.02. */
  uniformMix?: number;
}

export interface TrafficProfileState {
  buckets: number;
  /** Decayed counts of completed days. */
  history: number[];
  /** Counts of the day in progress. */
  today: number[];
  day: string | null;
}

export class TrafficProfile {
  readonly buckets: number;
  private readonly decay: number;
  private readonly minObs: number;
  private readonly mix: number;
  private history: number[];
  private today: number[];
  private day: string | null = null;

  constructor(opts: TrafficProfileOptions = {}, state?: TrafficProfileState) {
    this.buckets = opts.buckets ?? 24;
    this.decay = opts.dayDecay ?? 0.7;
    this.minObs = opts.minObservations ?? 1000;
    this.mix = opts.uniformMix ?? 0.02;
    this.history = state?.history.slice() ?? new Array(this.buckets).fill(0);
    this.today = state?.today.slice() ?? new Array(this.buckets).fill(0);
    this.day = state?.day ?? null;
  }

  state(): TrafficProfileState {
    return { buckets: this.buckets, history: this.history.slice(), today: this.today.slice(), day: this.day };
  }

  /** Records `count` impressions at a fraction of the day in [0, 1) of the named day. */
  observe(day: string, dayFraction: number, count = 1): void {
    if (this.day !== day) {
      if (this.day !== null) {
        for (let b = 0; b < this.buckets; b++) this.history[b] = this.decay * this.history[b] + this.today[b];
      }
      this.today.fill(0);
      this.day = day;
    }
    this.today[this.bucketOf(dayFraction)] += count;
  }

  bucketOf(dayFraction: number): number {
    return Math.min(this.buckets - 1, Math.max(0, Math.floor(dayFraction * this.buckets)));
  }

  /**
   * Shares per bucket (sum 1). Learned from completed days; today's counts are used only for the
   * buckets already past, scaled, when no day has been completed yet.
   */
  shares(): number[] {
    const u = 1 / this.buckets;
    const total = this.history.reduce((a, b) => a + b, 0);
    if (total < this.minObs) return new Array(this.buckets).fill(u);
    return this.history.map((c) => (1 - this.mix) * (c / total) + this.mix * u);
  }

  /** Cumulative share of the day's traffic up to a fraction of the day, linear inside a bucket. */
  cumulative(dayFraction: number, shares = this.shares()): number {
    if (dayFraction <= 0) return 0;
    if (dayFraction >= 1) return 1;
    const x = dayFraction * this.buckets;
    const b = Math.floor(x);
    let c = 0;
    for (let i = 0; i < b; i++) c += shares[i];
    return Math.min(1, c + shares[b] * (x - b));
  }
}
