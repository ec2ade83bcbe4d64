import { BucketTables, SdimHasher } from '../../../../libs/sdim/src';
import { BehaviorRepositoryConfig } from './behavior.types';
import { Entry, Head, compareEntries, locate, segmentFor } from './history';
import { ItemRecord, itemSignatures } from './item-record';
import { addWeighted, settle } from './recency-embedding';

/**
 * The pure part of applyBehaviors for one user: merge new behaviours into the loaded history
 * segments, evict beyond the cap, and (once the evicted items are known) update tables and
 * embedding accumulators. No I/O here; behavior.repository.ts loads and stores.
 */
export interface NewBehavior {
  index: number;
  entry: Entry;
  item: ItemRecord;
}

export interface UserBatch {
  userId: string;
  head: Head;
  /** Loaded segments by id. */
  segments: Map<number, Entry[]>;
  dirty: Set<number>;
  removedSegments: number[];
  added: NewBehavior[];
  evicted: Entry[];
  duplicates: number;
  dropped: number;
}

/** Segment ids to load before merging `events` (sorted by key): their target segments and the oldest ones the cap may evict. */
export function segmentsToLoad(head: Head, events: readonly NewBehavior[], cap: number): number[] {
  const ids = new Set<number>();
  for (const e of events) {
    const i = segmentFor(head.segments, e.entry.ts, e.entry.eventId);
    if (i >= 0) ids.add(head.segments[i].id);
  }
  let over = head.total + events.length - cap;
  for (let i = 0; i < head.segments.length && over > 0; i++) {
    ids.add(head.segments[i].id);
    over -= head.segments[i].count;
  }
  return [...ids];
}

/** Inserts the new behaviours in key order, skips those already present, then evicts the oldest beyond the cap. */
export function mergeAndEvict(u: UserBatch, events: readonly NewBehavior[], config: BehaviorRepositoryConfig): void {
  const { head } = u;
  const pending = new Set<Entry>();
  const byEntry = new Map<Entry, NewBehavior>();
  let prev: Entry | undefined;
  for (const e of events) {
    const x = e.entry;
    if (prev && compareEntries(prev, x) === 0) {
      u.duplicates++;
      continue;
    }
    prev = x;
    let i = segmentFor(head.segments, x.ts, x.eventId);
    if (i < 0) {
      const id = head.nextSegId++;
      head.segments.push({ id, count: 0, firstTs: x.ts, firstEventId: x.eventId });
      u.segments.set(id, []);
      i = 0;
    }
    const meta = head.segments[i];
    const entries = u.segments.get(meta.id);
    if (!entries) throw new Error(`history segment ${meta.id} of user ${u.userId} was not loaded`);
    const at = locate(entries, x.ts, x.eventId);
    if (at.found) {
      u.duplicates++;
      continue;
    }
    entries.splice(at.index, 0, x);
    meta.count++;
    head.total++;
    if (at.index === 0) {
      meta.firstTs = x.ts;
      meta.firstEventId = x.eventId;
    }
    u.dirty.add(meta.id);
    pending.add(x);
    byEntry.set(x, e);
  }
  while (head.total > config.historyCap) {
    const meta = head.segments[0];
    const entries = u.segments.get(meta.id);
    if (!entries) throw new Error(`oldest history segment ${meta.id} of user ${u.userId} was not loaded`);
    if (entries.length !== meta.count) throw new Error(`history segment ${meta.id} of user ${u.userId} holds ${entries.length} entries, head says ${meta.count}`);
    const n = Math.min(entries.length, head.total - config.historyCap);
    for (const x of entries.splice(0, n)) {
      if (pending.delete(x)) u.dropped++;
      else u.evicted.push(x);
    }
    meta.count -= n;
    head.total -= n;
    if (meta.count === 0) {
      head.segments.shift();
      u.segments.delete(meta.id);
      u.dirty.delete(meta.id);
      u.removedSegments.push(meta.id);
    } else {
      meta.firstTs = entries[0].ts;
      meta.firstEventId = entries[0].eventId;
      u.dirty.add(meta.id);
    }
  }
  for (const x of pending) u.added.push(byEntry.get(x)!);
  splitOversized(u, config.segmentSize);
}

/** Splits every dirty segment above `size` entries into near-equal pieces, keeping the segment order. */
function splitOversized(u: UserBatch, size: number): void {
  const { head } = u;
  for (let i = 0; i < head.segments.length; i++) {
    const meta = head.segments[i];
    if (meta.count <= size) continue;
    const entries = u.segments.get(meta.id)!;
    const pieces = Math.ceil(entries.length / size);
    const per = Math.ceil(entries.length / pieces);
    const metas = [];
    for (let p = 0; p < pieces; p++) {
      const part = entries.slice(p * per, (p + 1) * per);
      const id = p === 0 ? meta.id : head.nextSegId++;
      u.segments.set(id, part);
      u.dirty.add(id);
      metas.push({ id, count: part.length, firstTs: part[0].ts, firstEventId: part[0].eventId });
    }
    head.segments.splice(i, 1, ...metas);
    i += metas.length - 1;
  }
}

export interface ApplyToTablesInput {
  tables: BucketTables;
  hasher: SdimHasher;
  fingerprint: number;
  halfLifeMs: number;
  /** Embedding record of every evicted entry, by `${ver}:${itemId}`; missing ones make the user need a rebuild. */
  versions: Map<string, ItemRecord | null>;
}

export const versionKey = (itemId: string, ver: number) => `${ver}:${itemId}`;

/** Updates tables and embedding accumulators. Returns false when an evicted item version is unknown (rebuild needed). */
export function applyToTables(u: UserBatch, t: ApplyToTablesInput): boolean {
  let complete = true;
  for (const x of u.evicted) {
    const rec = t.versions.get(versionKey(x.itemId, x.ver));
    if (!rec) {
      complete = false;
      continue;
    }
    t.tables.remove(rec.embedding, itemSignatures(rec, t.hasher, t.fingerprint));
    addWeighted(u.head, rec.embedding, x.ts, t.halfLifeMs, -1);
  }
  for (const a of u.added) {
    a.entry.ver = a.item.version;
    t.tables.add(a.item.embedding, itemSignatures(a.item, t.hasher, t.fingerprint));
    addWeighted(u.head, a.item.embedding, a.entry.ts, t.halfLifeMs, 1);
    if (a.entry.ts > u.head.newestTs) u.head.newestTs = a.entry.ts;
  }
  settle(u.head);
  return complete;
}
