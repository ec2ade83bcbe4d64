/**
 * Binary layouts of a user's behaviour history.
 *
 * The history is kept sorted by (ts, eventId) and split into segments of at most `segmentSize`
 * entries, each stored in its own key, so that a batch rewrites only the segments it touches
 * (usually the newest, plus the oldest when the cap evicts) instead of the whole capped history.
 * The head blob lists the segments (id, count, first key) and holds the user-embedding
 * accumulators. Segments do not overlap: an entry with key k lives in the last segment whose first
 * key is <= k, which is also how a replayed event is found again (idempotency without a separate
 * set of processed ids).
 */

export interface Entry {
  ts: number;
  eventId: string;
  itemId: string;
  type: string;
  /** Embedding version of the item when the behaviour entered the tables. */
  ver: number;
}

export interface SegmentMeta {
  id: number;
  count: number;
  firstTs: number;
  firstEventId: string;
  /** Key of the newest entry: an event after it is a pure append (no decoding needed). */
  lastTs: number;
  lastEventId: string;
}

export interface Head {
  total: number;
  nextSegId: number;
  /** Oldest first. */
  segments: SegmentMeta[];
  /** Recency-weight anchor time; weights are 2^((ts - anchor) / halfLife). */
  anchorTs: number;
  /** Sum of weights. */
  weight: number;
  /** Weighted sum of embeddings (float64, length d). */
  sum: Float64Array;
  newestTs: number;
  /**
   * Changes on every write (random uint32): a writer that caches a user's decoded tables uses
   * them only while the stored head still carries the stamp it wrote.
   */
  stamp: number;
}

export function compareKey(aTs: number, aId: string, bTs: number, bId: string): number {
  if (aTs !== bTs) return aTs < bTs ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export const compareEntries = (a: Entry, b: Entry): number => compareKey(a.ts, a.eventId, b.ts, b.eventId);

export function emptyHead(d: number): Head {
  return { total: 0, nextSegId: 1, segments: [], anchorTs: 0, weight: 0, sum: new Float64Array(d), newestTs: 0, stamp: 0 };
}

/** Index of the segment that holds (or would hold) key (ts, id): the last with first key <= it, else 0; -1 if none. */
export function segmentFor(segments: readonly SegmentMeta[], ts: number, id: string): number {
  if (segments.length === 0) return -1;
  let lo = 0;
  let hi = segments.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compareKey(segments[mid].firstTs, segments[mid].firstEventId, ts, id) <= 0) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** Position of key in a sorted entry array: {found, index} (index = insertion point when not found). */
export function locate(entries: readonly Entry[], ts: number, id: string): { found: boolean; index: number } {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareKey(entries[mid].ts, entries[mid].eventId, ts, id);
    if (c === 0) return { found: true, index: mid };
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return { found: false, index: lo };
}

const HEAD_FORMAT = 1;
/** Fixed part of the head: format, d, total, nextSegId, segment count, anchorTs, weight, newestTs, stamp, 4 reserved bytes. */
const HEAD_BYTES = 48;
const SEG_FORMAT = 1;

export function encodeHead(h: Head): Buffer {
  const d = h.sum.length;
  const ids = h.segments.map((s) => [Buffer.from(s.firstEventId, 'utf8'), Buffer.from(s.lastEventId, 'utf8')]);
  const size = HEAD_BYTES + 8 * d + ids.reduce((n, [a, b]) => n + 28 + a.length + b.length, 0);
  const buf = Buffer.alloc(size);
  buf.writeUInt8(HEAD_FORMAT, 0);
  buf.writeUInt16LE(d, 2);
  buf.writeUInt32LE(h.total, 4);
  buf.writeUInt32LE(h.nextSegId, 8);
  buf.writeUInt32LE(h.segments.length, 12);
  buf.writeDoubleLE(h.anchorTs, 16);
  buf.writeDoubleLE(h.weight, 24);
  buf.writeDoubleLE(h.newestTs, 32);
  buf.writeUInt32LE(h.stamp >>> 0, 40);
  let o = HEAD_BYTES;
  for (let k = 0; k < d; k++, o += 8) buf.writeDoubleLE(h.sum[k], o);
  h.segments.forEach((s, i) => {
    const [a, b] = ids[i];
    buf.writeUInt32LE(s.id, o);
    buf.writeUInt32LE(s.count, o + 4);
    buf.writeDoubleLE(s.firstTs, o + 8);
    buf.writeDoubleLE(s.lastTs, o + 16);
    buf.writeUInt16LE(a.length, o + 24);
    buf.writeUInt16LE(b.length, o + 26);
    o += 28;
    a.copy(buf, o);
    o += a.length;
    b.copy(buf, o);
    o += b.length;
  });
  return buf;
}

export function decodeHead(buf: Buffer): Head {
  if (buf.readUInt8(0) !== HEAD_FORMAT) throw new Error('unknown history head format');
  const d = buf.readUInt16LE(2);
  const n = buf.readUInt32LE(12);
  const sum = new Float64Array(d);
  let o = HEAD_BYTES;
  for (let k = 0; k < d; k++, o += 8) sum[k] = buf.readDoubleLE(o);
  const segments: SegmentMeta[] = [];
  for (let i = 0; i < n; i++) {
    const la = buf.readUInt16LE(o + 24);
    const lb = buf.readUInt16LE(o + 26);
    const start = o + 28;
    segments.push({
      id: buf.readUInt32LE(o),
      count: buf.readUInt32LE(o + 4),
      firstTs: buf.readDoubleLE(o + 8),
      lastTs: buf.readDoubleLE(o + 16),
      firstEventId: buf.toString('utf8', start, start + la),
      lastEventId: buf.toString('utf8', start + la, start + la + lb),
    });
    o = start + la + lb;
  }
  return {
    total: buf.readUInt32LE(4),
    nextSegId: buf.readUInt32LE(8),
    segments,
    anchorTs: buf.readDoubleLE(16),
    weight: buf.readDoubleLE(24),
    newestTs: buf.readDoubleLE(32),
    stamp: buf.readUInt32LE(40),
    sum,
  };
}

/** Segment blob: u8 format, 3 reserved bytes, u32 count, then per entry f64 ts, u32 ver, u16/u16/u8 lengths of eventId/itemId/type, the strings. */
export function encodeSegment(entries: readonly Entry[]): Buffer {
  return appendToSegment(null, entries);
}

/** `raw` (an encoded segment, or null) followed by `entries`, without decoding `raw`. */
export function appendToSegment(raw: Buffer | null, entries: readonly Entry[]): Buffer {
  let size = raw ? raw.length : 8;
  for (const e of entries) size += 17 + Buffer.byteLength(e.eventId) + Buffer.byteLength(e.itemId) + Buffer.byteLength(e.type);
  const buf = Buffer.allocUnsafe(size);
  if (raw) raw.copy(buf, 0);
  else buf.fill(0, 0, 8).writeUInt8(SEG_FORMAT, 0);
  buf.writeUInt32LE((raw ? raw.readUInt32LE(4) : 0) + entries.length, 4);
  let o = raw ? raw.length : 8;
  for (const e of entries) {
    buf.writeDoubleLE(e.ts, o);
    buf.writeUInt32LE(e.ver, o + 8);
    const a = buf.write(e.eventId, o + 17, 'utf8');
    const b = buf.write(e.itemId, o + 17 + a, 'utf8');
    const c = buf.write(e.type, o + 17 + a + b, 'utf8');
    buf.writeUInt16LE(a, o + 12);
    buf.writeUInt16LE(b, o + 14);
    buf.writeUInt8(c, o + 16);
    o += 17 + a + b + c;
  }
  return buf;
}

export function decodeSegment(buf: Buffer): Entry[] {
  if (buf.readUInt8(0) !== SEG_FORMAT) throw new Error('unknown history segment format');
  const n = buf.readUInt32LE(4);
  const out: Entry[] = new Array(n);
  let o = 8;
  for (let i = 0; i < n; i++) {
    const ts = buf.readDoubleLE(o);
    const ver = buf.readUInt32LE(o + 8);
    const la = buf.readUInt16LE(o + 12);
    const lb = buf.readUInt16LE(o + 14);
    const lc = buf.readUInt8(o + 16);
    o += 17;
    const eventId = buf.toString('utf8', o, o + la);
    o += la;
    const itemId = buf.toString('utf8', o, o + lb);
    o += lb;
    const type = buf.toString('utf8', o, o + lc);
    o += lc;
    out[i] = { ts, ver, eventId, itemId, type };
  }
  return out;
}

/** Maximum UTF-8 byte lengths the segment layout can hold. */
export const MAX_ID_BYTES = 65535;
export const MAX_TYPE_BYTES = 255;
