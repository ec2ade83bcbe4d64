import type { SdimHasher, TablesOp } from '@recsys/sdim';
import { BehaviorRepositoryConfig } from './behavior.types';
import { Entry, Head, SegmentMeta, appendToSegment, compareEntries, compareKey, decodeSegment, encodeSegment, locate, segmentFor } from './history';
import { ItemRecord, itemFixed, itemSignatures } from './item-record';
import { addWeighted, settle } from './recency-embedding';

/**
 * The pure part of applyBehaviors for one user: merge new behaviours into the loaded history
 * segments, evict beyond the cap, and (once the evicted items are known) derive the table updates
 * and the embedding accumulators. No I/O here; apply-batch.ts loads and stores.
 *
 * Most behaviours arrive in time order and land after the newest entry: such an append goes to
 * the newest segment, which is inline in the head, without decoding it (its bytes are concatenated);
 * when it is full, it moves to its own key and a new inline segment opens. Only inserts in the
 * middle (late events), evictions and duplicate checks inside a segment decode it. An eviction
 * that leaves entries in a keyed segment does not rewrite it: the head records how many of its
 * leading entries are dead (`skip`).
 */
export interface NewBehavior {
  index: number;
  entry: Entry;
  item: ItemRecord;
}

/** A loaded (or new) segment: raw bytes as stored, decoded entries once needed, appended entries. */
export interface SegmentState {
  raw: Buffer | null;
  /** Dead entries at the front of `raw` (the segment's `skip` when loaded). */
  skip: number;
  /** The live entries once decoded (then `tail` is empty). */
  entries: Entry[] | null;
  /** Entries appended after `raw` while not decoded. */
  tail: Entry[];
  /** Loaded from its own key (not inline in the head, not opened by this batch). */
  keyed: boolean;
  /** Entries evicted from the front since loading. */
  evicted: number;
}

export interface UserBatch {
  userId: string;
  head: Head;
  segments: Map<number, SegmentState>;
  /** Segments whose entries changed other than by eviction from the front. */
  dirty: Set<number>;
  /** Segment keys to delete (every entry evicted). */
  removedSegments: number[];
  /** Id of the segment inline in the loaded head; null when none (or a format-1 head). */
  inlineId: number | null;
  added: NewBehavior[];
  evicted: Entry[];
  duplicates: number;
  dropped: number;
}

export function userBatch(userId: string, head: Head): UserBatch {
  const u: UserBatch = { userId, head, segments: new Map(), dirty: new Set(), removedSegments: [], inlineId: null, added: [], evicted: [], duplicates: 0, dropped: 0 };
  const last = head.segments[head.segments.length - 1];
  if (last && head.open) {
    u.inlineId = last.id;
    u.segments.set(last.id, { raw: head.open, skip: last.skip, entries: null, tail: [], keyed: false, evicted: 0 });
  }
  return u;
}

/** A segment read from its key (null: the key is gone). */
export function keyedSegment(raw: Buffer, meta: SegmentMeta): SegmentState {
  return { raw, skip: meta.skip, entries: null, tail: [], keyed: true, evicted: 0 };
}

const afterLast = (m: SegmentMeta, x: Entry) => compareKey(x.ts, x.eventId, m.lastTs, m.lastEventId) > 0;

/**
 * Segment keys to read before merging `events` (sorted by key): their target segments, the oldest
 * ones the cap may evict, and, for a format-1 head, the newest (it moves inline). Segments already
 * at hand (the inline one) are not listed.
 */
export function segmentsToLoad(u: UserBatch, events: readonly NewBehavior[], config: BehaviorRepositoryConfig): number[] {
  const ids = new Set<number>();
  const { head } = u;
  const segs = head.segments;
  if (segs.length && u.inlineId === null) ids.add(segs[segs.length - 1].id);
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
  return [...ids].filter((id) => !u.segments.has(id));
}

function decoded(u: UserBatch, id: number): Entry[] {
  const st = u.segments.get(id);
  if (!st) throw new Error(`history segment ${id} of user ${u.userId} was not loaded`);
  if (!st.entries) {
    st.entries = st.raw ? decodeSegment(st.raw, st.skip) : [];
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
  const meta = { id: u.head.nextSegId++, count: 0, skip: 0, firstTs: x.ts, firstEventId: x.eventId, lastTs: x.ts, lastEventId: x.eventId };
  u.head.segments.push(meta);
  u.segments.set(meta.id, { raw: null, skip: 0, entries: [], tail: [], keyed: false, evicted: 0 });
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
    const st = u.segments.get(meta.id)!;
    if (entries.length === 0) {
      head.segments.shift();
      u.segments.delete(meta.id);
      u.dirty.delete(meta.id);
      if (st.keyed) u.removedSegments.push(meta.id);
    } else {
      setBounds(meta, entries);
      st.evicted += n;
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
    const keyed = u.segments.get(meta.id)!.keyed;
    for (let p = 0; p < pieces; p++) {
      const part = entries.slice(p * per, (p + 1) * per);
      const id = p === 0 ? meta.id : head.nextSegId++;
      u.segments.set(id, { raw: null, skip: 0, entries: part, tail: [], keyed: p === 0 && keyed, evicted: 0 });
      u.dirty.add(id);
      const m = { ...meta, id };
      setBounds(m, part);
      metas.push(m);
    }
    head.segments.splice(i, 1, ...metas);
    i += metas.length - 1;
  }
}

/** The bytes to store for a segment: re-encoded (live entries only) when decoded, else the stored bytes plus the appended entries. */
export function segmentBytes(st: SegmentState): Buffer {
  return st.entries ? encodeSegment(st.entries) : appendToSegment(st.raw, st.tail);
}

export interface SegmentWrites {
  /** Segment keys to write. */
  keyed: { id: number; bytes: Buffer }[];
  /** Segment keys to delete. */
  removed: number[];
  /** Entries to append after head.open when encoding the head (encodeHead's `append`). */
  openAppend: Entry[];
}

/**
 * Where every touched segment goes: the newest inline in the head (sets head.open, and openAppend:
 * the entries encodeHead must append to it), the others to
 * their keys when their entries changed or when they just left the head. A keyed segment that only
 * lost entries at the front is not rewritten: its `skip` grows. Updates every meta's `skip`.
 */
export function planSegmentWrites(u: UserBatch): SegmentWrites {
  const segs = u.head.segments;
  const out: SegmentWrites = { keyed: [], removed: [...u.removedSegments], openAppend: [] };
  u.head.open = null;
  segs.forEach((meta, i) => {
    const st = u.segments.get(meta.id);
    const last = i === segs.length - 1;
    if (!st) {
      if (last) throw new Error(`newest history segment ${meta.id} of user ${u.userId} was not loaded`);
      return;
    }
    const skip = st.entries ? 0 : st.skip;
    if (last) {
      // Stored bytes plus appended entries: encodeHead appends them (no intermediate segment copy).
      if (!st.entries && st.raw) {
        u.head.open = st.raw;
        out.openAppend = st.tail;
      } else u.head.open = segmentBytes(st);
      meta.skip = skip;
      // A format-1 head kept its newest segment in a key: it now lives in the head.
      if (st.keyed) out.removed.push(meta.id);
    } else if (u.dirty.has(meta.id) || meta.id === u.inlineId || !st.keyed) {
      out.keyed.push({ id: meta.id, bytes: segmentBytes(st) });
      meta.skip = skip;
    } else {
      meta.skip = st.skip + st.evicted;
    }
  });
  return out;
}

export interface TableOpsInput {
  hasher: SdimHasher;
  fingerprint: number;
  halfLifeMs: number;
  /** Embedding record of every evicted entry, by versionKey(); missing ones make the user need a rebuild. */
  versions: Map<string, ItemRecord | null>;
}

export const versionKey = (itemId: string, ver: number) => `${ver}:${itemId}`;

/** A table update with the item version it adds or removes (whose encoded delta is cached: itemDelta). */
export interface ItemOp extends TablesOp {
  rec: ItemRecord;
}

/**
 * The table updates of the batch (evictions, then additions) and the embedding accumulators
 * (updated in place, O(d) per behaviour). `complete` is false when an evicted item version is
 * unknown: the user then needs a rebuild.
 */
export function tableOps(u: UserBatch, t: TableOpsInput): { ops: ItemOp[]; complete: boolean } {
  let complete = true;
  const ops: ItemOp[] = [];
  for (const x of u.evicted) {
    const rec = t.versions.get(versionKey(x.itemId, x.ver));
    if (!rec) {
      complete = false;
      continue;
    }
    ops.push({ sign: -1, signatures: itemSignatures(rec, t.hasher, t.fingerprint), fixed: itemFixed(rec), rec });
    addWeighted(u.head, rec.embedding, x.ts, t.halfLifeMs, -1);
  }
  for (const a of u.added) {
    ops.push({ sign: 1, signatures: itemSignatures(a.item, t.hasher, t.fingerprint), fixed: itemFixed(a.item), rec: a.item });
    addWeighted(u.head, a.item.embedding, a.entry.ts, t.halfLifeMs, 1);
    if (a.entry.ts > u.head.newestTs) u.head.newestTs = a.entry.ts;
  }
  settle(u.head);
  return { ops, complete };
}
