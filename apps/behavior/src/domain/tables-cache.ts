/**
 * The tables blobs this writer last stored, per user, within a byte budget (least recently used
 * first out). A hit saves reading the blob back (up to groups * 2^tau * d * 4 bytes, 33 KB at
 * m=48, tau=3, d=64) when the user's next batch comes: what heavy users of a skewed stream cost.
 * An entry is used only while the stored head still carries the stamp written with it, so a change
 * by another writer is never overwritten from a stale copy.
 */
export class TablesCache {
  private readonly map = new Map<string, { stamp: number; blob: Buffer }>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  get size(): number {
    return this.map.size;
  }

  get(userId: string): { stamp: number; blob: Buffer } | undefined {
    const v = this.map.get(userId);
    if (v) {
      this.map.delete(userId);
      this.map.set(userId, v);
    }
    return v;
  }

  set(userId: string, stamp: number, blob: Buffer): void {
    this.delete(userId);
    if (blob.length > this.budget) return;
    this.map.set(userId, { stamp, blob });
    this.bytes += blob.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= v.blob.length;
    }
  }

  delete(userId: string): void {
    const v = this.map.get(userId);
    if (!v) return;
    this.map.delete(userId);
    this.bytes -= v.blob.length;
  }
}
