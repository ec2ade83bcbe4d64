/**
 * Popular items kept from recent impressions (and clicks): an exponentially decayed count per item
 * (half-life `halfLifeMs`), so the fallback follows what is being shown and clicked now. In memory,
 * per gateway process: it is a fallback, rebuilt by the traffic itself after a restart.
 */
export class PopularItems {
  private readonly scores = new Map<string, number>();
  private ref: number;
  private cache?: { at: number; ids: string[] };

  constructor(
    private readonly halfLifeMs = 3_600_000,
    private readonly maxItems = 20_000,
    private readonly now: () => number = Date.now,
  ) {
    this.ref = now();
  }

  /** weight 1 for an impression; clicks count more. */
  record(itemId: string, weight = 1): void {
    const t = this.now();
    // Rescale before exp() could overflow (every ~500 half-lives).
    if ((t - this.ref) / this.halfLifeMs > 500) this.rebase(t);
    const w = weight * Math.pow(2, (t - this.ref) / this.halfLifeMs);
    this.scores.set(itemId, (this.scores.get(itemId) ?? 0) + w);
    if (this.scores.size > this.maxItems * 1.2) this.prune();
  }

  /** Most popular first; recomputed at most once a second. */
  top(n: number): string[] {
    const t = this.now();
    if (!this.cache || t - this.cache.at > 1000) {
      this.cache = {
        at: t,
        ids: [...this.scores.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 5000)
          .map(([id]) => id),
      };
    }
    return this.cache.ids.slice(0, n);
  }

  delete(itemId: string): void {
    this.scores.delete(itemId);
    this.cache = undefined;
  }

  get size(): number {
    return this.scores.size;
  }

  private rebase(t: number) {
    const f = Math.pow(2, -(t - this.ref) / this.halfLifeMs);
    for (const [k, v] of this.scores) this.scores.set(k, v * f);
    this.ref = t;
  }

  private prune() {
    const keep = [...this.scores.entries()].sort((a, b) => b[1] - a[1]).slice(0, this.maxItems);
    this.scores.clear();
    for (const [k, v] of keep) this.scores.set(k, v);
    this.cache = undefined;
  }
}
