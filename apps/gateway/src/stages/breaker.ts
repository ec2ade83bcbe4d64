/**
 * A circuit breaker per dependency: `failures` consecutive failures (errors or missed deadlines)
 * open it; while open every call is refused at once (the caller takes its fallback without waiting
 * for a deadline); after `cooldownMs` one trial call is let through (half-open): success closes it,
 * failure opens it again for another cooldown.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private _state: BreakerState = 'closed';

  constructor(
    readonly name: string,
    private readonly opts: { failures: number; cooldownMs: number },
    private readonly now: () => number = Date.now,
    private readonly onChange?: (name: string, state: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    if (this._state === 'open' && this.now() - this.openedAt >= this.opts.cooldownMs) return 'half_open';
    return this._state;
  }

  /** Whether a call may go out now; a half-open breaker lets exactly one trial through. */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open') return false;
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.trialInFlight = false;
    this.consecutive = 0;
    this.set('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.consecutive++;
    if (this._state !== 'closed' || this.consecutive >= this.opts.failures) {
      this.openedAt = this.now();
      this.set('open');
    }
  }

  private set(s: BreakerState) {
    if (this._state !== s) {
      this._state = s;
      this.onChange?.(this.name, s);
    }
  }
}
