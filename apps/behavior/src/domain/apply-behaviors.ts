import { BucketTables, SdimHasher } from '../../../../libs/sdim/src';
import { BehaviorRepositoryConfig } from './behavior.types';
import { Entry, Head, SegmentMeta, appendToSegment, compareEntries, compareKey, decodeSegment, encodeSegment, locate, segmentFor } from './history';
import { ItemRecord, itemSignatures, itemSnapped } from './item-record';
import { addWeighted, settle } from './recency-embedding';

/**
 * The pure part of applyBehaviors for one user: merge new behaviours into the loaded history
 * segments, evict beyond the cap, and (once the evicted items are known) update tables and
 * embedding accumulators. No I/O here; behavior.repository.ts loads and stores.
 *
 * Most behaviours arrive in time order and land after the newest entry: such an append needs
 * neither the newest segment decoded nor re-encoded, its bytes are concatenated to the stored
 * ones; when the newest segment is full, appends open a new segment without reading the old one.
 * Only inserts in the middle (late events), evictions and duplicate checks inside a segment
 * decode it.
 */
export interface NewBehavior {
  index: number;
  entry: Entry;
  item: ItemRecord;
}

/** A loaded (or new) segment: raw bytes as stored, decoded entries once needed, appended entries. */
export interface SegmentState {
  raw: Buffer | null;
  /** All entries once decoded (then `tail` is empty). */
  entries: Entry[] | null;
  /** Entries appended after `raw` while not decoded. */
  tail: Entry[];
}

export interface UserBatch {
  userId: string;
  head: Head;
  segments: Map<number, SegmentState>;
  dirty: Set<number>;
  removedSegments: number[];
  added: NewBehavior[];
  evicted: Entry[];
  duplicates: number;
  dropped: number;
}

const afterLast = (m: SegmentMeta, x: Entry) => compareKey(x.ts, x.eventId, m.lastTs, m.lastEventId) > 0;

/** Segment ids to load before merging `events` (sorted by key): their target segments and the oldest ones the cap may evict. */
export function segmentsToLoad(head: Head, events: readonly NewBehavior[], config: BehaviorRepositoryConfig): number[] {
  const ids = new Set<number>();
  const segs = head.segments;
  for (const e of events) {
    const i = segmentFor(segs, e.entry.ts, e.entry.eventId);
    if (i < 0) continue;
    // An append to a full newest segment opens a new one: nothing to read.
    if (i === segs.length - 1 && afterLast(segs[i], e.entry) && segs[i].count >= config.segmentSize) continue;
    ids.add(segs[i].id);
  }
  let over = head.total + events.length - config.historyCap;
  for (let i = 0; i < segs.length && over > 0; i++) {
    ids.add(segs[i].id);
    over -= segs[i].count;
  }
  return [...ids];
}

function decoded(u: UserBatch, id: number): Entry[] {
  const st = u.segments.get(id);
  if (!st) throw new Error(`history segment ${id} of user ${u.userId} was not loaded`);
  if (!st.entries) {
    st.entries = st.raw ? decodeSegment(st.raw) : [];
    for (const x of st.tail) st.entries.push(x);
    st.tail = [];
  }
  return st.entries;
}

function setBounds(meta: SegmentMeta, entries: readonly Entry[]): void {
  meta.count = entries.length;
  meta.firstTs = entries[0].ts;
  meta.firstEventId = entries[0].eventId;
  meta.lastTs = entries[entries.length - 1].ts;
  meta.lastEventId = entries[entries.length - 1].eventId;
}

function openSegment(u: UserBatch, x: Entry): SegmentMeta {
  const meta = { id: u.head.nextSegId++, count: 0, firstTs: x.ts, firstEventId: x.eventId, lastTs: x.ts, lastEventId: x.eventId };
  u.head.segments.push(meta);
  u.segments.set(meta.id, { raw: null, entries: [], tail: [] });
  return meta;
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
    const segs = head.segments;
    const i = segmentFor(segs, x.ts, x.eventId);
    if (i < 0 || (i === segs.length - 1 && afterLast(segs[i], x))) {
      // Append after the newest entry (no duplicate possible).
      let meta = segs[segs.length - 1];
      if (!meta || meta.count >= config.segmentSize) meta = openSegment(u, x);
      const st = u.segments.get(meta.id);
      if (!st) throw new Error(`history segment ${meta.id} of user ${u.userId} was not loaded`);
      (st.entries ?? st.tail).push(x);
      if (meta.count === 0) {
        meta.firstTs = x.ts;
        meta.firstEventId = x.eventId;
      }
      meta.count++;
      meta.lastTs = x.ts;
      meta.lastEventId = x.eventId;
      u.dirty.add(meta.id);
    } else {
      const meta = segs[i];
      const entries = decoded(u, meta.id);
      const at = locate(entries, x.ts, x.eventId);
      if (at.found) {
        u.duplicates++;
        continue;
      }
      entries.splice(at.index, 0, x);
      setBounds(meta, entries);
      u.dirty.add(meta.id);
    }
    head.total++;
    pending.add(x);
    byEntry.set(x, e);
  }
  while (head.total > config.historyCap) {
    const meta = head.segments[0];
    const entries = decoded(u, meta.id);
    if (entries.length !== meta.count) throw new Error(`history segment ${meta.id} of user ${u.userId} holds ${entries.length} entries, head says ${meta.count}`);
    const n = Math.min(entries.length, head.total - config.historyCap);
    for (const x of entries.splice(0, n)) {
      if (pending.delete(x)) u.dropped++;
      else u.evicted.push(x);
    }
    head.total -= n;
    if (entries.length === 0) {
      head.segments.shift();
      u.segments.delete(meta.id);
      u.dirty.delete(meta.id);
      u.removedSegments.push(meta.id);
    } else {
      setBounds(meta, entries);
      u.dirty.add(meta.id);
    }
  }
  for (const x of pending) u.added.push(byEntry.get(x)!);
  splitOversized(u, config.segmentSize);
}

/** Splits every segment above `size` entries (only middle inserts make one) into near-equal pieces. */
function splitOversized(u: UserBatch, size: number): void {
  const { head } = u;
  for (let i = 0; i < head.segments.length; i++) {
    const meta = head.segments[i];
    if (meta.count <= size) continue;
    const entries = decoded(u, meta.id);
    const pieces = Math.ceil(entries.length / size);
    const per = Math.ceil(entries.length / pieces);
    const metas: SegmentMeta[] = [];
    for (let p = 0; p < pieces; p++) {
      const part = entries.slice(p * per, (p + 1) * per);
      const id = p === 0 ? meta.id : head.nextSegId++;
      u.segments.set(id, { raw: null, entries: part, tail: [] });
      u.dirty.add(id);
      const m = { ...meta, id };
      setBounds(m, part);
      metas.push(m);
    }
    head.segments.splice(i, 1, ...metas);
    i += metas.length - 1;
  }
}

/** The bytes to store for a dirty segment: re-encoded when decoded, else the stored bytes plus the appended entries. */
export function segmentBytes(st: SegmentState): Buffer {
  return st.entries ? encodeSegment(st.entries) : appendToSegment(st.raw, st.tail);
}

export interface ApplyToTablesInput {
  tables: BucketTables;
  hasher: SdimHasher;
  fingerprint: number;
  halfLifeMs: number;
  /** Embedding record of every evicted entry, by versionKey(); missing ones make the user need a rebuild. */
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
    t.tables.removeSnapped(itemSnapped(rec), itemSignatures(rec, t.hasher, t.fingerprint));
    addWeighted(u.head, rec.embedding, x.ts, t.halfLifeMs, -1);
  }
  for (const a of u.added) {
    t.tables.addSnapped(itemSnapped(a.item), itemSignatures(a.item, t.hasher, t.fingerprint));
    addWeighted(u.head, a.item.embedding, a.entry.ts, t.halfLifeMs, 1);
    if (a.entry.ts > u.head.newestTs) u.head.newestTs = a.entry.ts;
  }
  settle(u.head);
  return complete;
}
