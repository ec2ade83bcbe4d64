import type { TablesOp } from '@recsys/sdim';

/**
 * What this writer last stored of a user's SDIM tables: the folded blob (null when the user has
 * none yet: every update still waits in the tail) and the updates of the tail after it, in seq
 * order. Valid while the stored head carries `stamp` (the stamp written with it): then the blob
 * at the key is `blob` and the tail holds exactly `pending`, so a fold needs no read. The writer
 * caches users with a blob only (see apply-batch.ts).
 */
export interface CachedTables {
  stamp: number;
  blob: Buffer | null;
  pending: TablesOp[];
}

/** Bytes charged per cached entry and per pending update (the ops share the item records' arrays). */
const ENTRY_BYTES = 128;
const OP_BYTES = 64;
const cost = (v: CachedTables) => ENTRY_BYTES + (v.blob ? v.blob.length : 0) + OP_BYTES * v.pending.length;

/**
 * The table state this writer stored last, per user, within a byte budget (least recently used
 * first out). A hit saves reading the blob (up to groups * 2^tau * d * 4 bytes, 33 KB at m=48,
 * tau=3, d=64) and the tail (up to tailFoldAt deltas) back at a fold: what heavy users of a
 * skewed stream cost. An entry is used only while the stored head still carries the stamp written
 * with it, so a change by another writer is never overwritten from a stale copy.
 */
export class TablesCache {
  /** Entries with the bytes charged when stored (a caller may change an entry it took out). */
  private readonly map = new Map<string, { v: CachedTables; n: number }>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Bytes charged for the entries (at most the budget). */
  get charged(): number {
    return this.bytes;
  }

  /** Removes and returns the user's entry (the caller stores it again, changed or not, when done). */
  take(userId: string): CachedTables | undefined {
    const e = this.map.get(userId);
    if (!e) return undefined;
    this.map.delete(userId);
    this.bytes -= e.n;
    return e.v;
  }

  set(userId: string, v: CachedTables): void {
    this.delete(userId);
    const n = cost(v);
    if (n > this.budget) return;
    this.map.set(userId, { v, n });
    this.bytes += n;
    for (const [k, old] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= old.n;
    }
  }

  delete(userId: string): void {
    const e = this.map.get(userId);
    if (!e) return;
    this.map.delete(userId);
    this.bytes -= e.n;
  }
}
