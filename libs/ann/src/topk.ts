/**
 * Bounded top-k of (distance, slot) pairs: a max-heap on distance holding at most k entries,
 * so the worst kept candidate is at the root and a scan rejects most rows with one compare.
 * Ties on distance are broken by the smaller slot, which keeps results deterministic.
 */
export class TopK {
  readonly k: number;
  private readonly dist: Float64Array;
  private readonly slot: Int32Array;
  private n = 0;

  constructor(k: number) {
    this.k = Math.max(0, Math.floor(k));
    this.dist = new Float64Array(Math.max(1, this.k));
    this.slot = new Int32Array(Math.max(1, this.k));
  }

  get size(): number {
    return this.n;
  }

  /** The distance a candidate must beat to enter (Infinity while not full). */
  get bound(): number {
    return this.n < this.k ? Infinity : this.dist[0];
  }

  push(d: number, s: number): void {
    if (this.k === 0) return;
    if (this.n < this.k) {
      let i = this.n++;
      // sift up
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(d, s, this.dist[p], this.slot[p])) break;
        this.dist[i] = this.dist[p];
        this.slot[i] = this.slot[p];
        i = p;
      }
      this.dist[i] = d;
      this.slot[i] = s;
      return;
    }
    if (!this.worse(this.dist[0], this.slot[0], d, s)) return;
    // replace root, sift down
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.worse(this.dist[r], this.slot[r], this.dist[l], this.slot[l])) c = r;
      if (!this.worse(this.dist[c], this.slot[c], d, s)) break;
      this.dist[i] = this.dist[c];
      this.slot[i] = this.slot[c];
      i = c;
    }
    this.dist[i] = d;
    this.slot[i] = s;
  }

  /** Entries sorted by ascending distance (then slot). */
  sorted(): Array<{ slot: number; distance: number }> {
    const out: Array<{ slot: number; distance: number }> = [];
    for (let i = 0; i < this.n; i++) out.push({ slot: this.slot[i], distance: this.dist[i] });
    out.sort((a, b) => a.distance - b.distance || a.slot - b.slot);
    return out;
  }

  /** True when (d1, s1) ranks after (d2, s2). */
  private worse(d1: number, s1: number, d2: number, s2: number): boolean {
    return d1 > d2 || (d1 === d2 && s1 > s2);
  }
}
