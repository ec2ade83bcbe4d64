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
}

export function compareKey(aTs: number, aId: string, bTs: number, bId: string): number {
  if (aTs !== bTs) return aTs < bTs ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export const compareEntries = (a: Entry, b: Entry): number => compareKey(a.ts, a.eventId, b.ts, b.eventId);

export function emptyHead(d: number): Head {
  return { total: 0, nextSegId: 1, segments: [], anchorTs: 0, weight: 0, sum: new Float64Array(d), newestTs: 0 };
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
const SEG_FORMAT = 1;

export function encodeHead(h: Head): Buffer {
  const d = h.sum.length;
  const ids = h.segments.map((s) => Buffer.from(s.firstEventId, 'utf8'));
  const size = 40 + 8 * d + ids.reduce((n, b) => n + 18 + b.length, 0);
  const buf = Buffer.alloc(size);
  buf.writeUInt8(HEAD_FORMAT, 0);
  buf.writeUInt16LE(d, 2);
  buf.writeUInt32LE(h.total, 4);
  buf.writeUInt32LE(h.nextSegId, 8);
  buf.writeUInt32LE(h.segments.length, 12);
  buf.writeDoubleLE(h.anchorTs, 16);
  buf.writeDoubleLE(h.weight, 24);
  buf.writeDoubleLE(h.newestTs, 32);
  let o = 40;
  for (let k = 0; k < d; k++, o += 8) buf.writeDoubleLE(h.sum[k], o);
  h.segments.forEach((s, i) => {
    buf.writeUInt32LE(s.id, o);
    buf.writeUInt32LE(s.count, o + 4);
    buf.writeDoubleLE(s.firstTs, o + 8);
    buf.writeUInt16LE(ids[i].length, o + 16);
    ids[i].copy(buf, o + 18);
    o += 18 + ids[i].length;
  });
  return buf;
}

export function decodeHead(buf: Buffer): Head {
  if (buf.readUInt8(0) !== HEAD_FORMAT) throw new Error('unknown history head format');
  const d = buf.readUInt16LE(2);
  const n = buf.readUInt32LE(12);
  const sum = new Float64Array(d);
  let o = 40;
  for (let k = 0; k < d; k++, o += 8) sum[k] = buf.readDoubleLE(o);
  const segments: SegmentMeta[] = [];
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt16LE(o + 16);
    segments.push({ id: buf.readUInt32LE(o), count: buf.readUInt32LE(o + 4), firstTs: buf.readDoubleLE(o + 8), firstEventId: buf.toString('utf8', o + 18, o + 18 + len) });
    o += 18 + len;
  }
  return {
    total: buf.readUInt32LE(4),
    nextSegId: buf.readUInt32LE(8),
    segments,
    anchorTs: buf.readDoubleLE(16),
    weight: buf.readDoubleLE(24),
    newestTs: buf.readDoubleLE(32),
    sum,
  };
}

/** Segment blob: u8 format, 3 reserved bytes, u32 count, then per entry f64 ts, u32 ver, u16/u16/u8 lengths of eventId/itemId/type, the strings. */
export function encodeSegment(entries: readonly Entry[]): Buffer {
  const parts = entries.map((e) => [Buffer.from(e.eventId, 'utf8'), Buffer.from(e.itemId, 'utf8'), Buffer.from(e.type, 'utf8')]);
  const size = 8 + parts.reduce((n, [a, b, c]) => n + 17 + a.length + b.length + c.length, 0);
  const buf = Buffer.alloc(size);
  buf.writeUInt8(SEG_FORMAT, 0);
  buf.writeUInt32LE(entries.length, 4);
  let o = 8;
  entries.forEach((e, i) => {
    const [a, b, c] = parts[i];
    buf.writeDoubleLE(e.ts, o);
    buf.writeUInt32LE(e.ver, o + 8);
    buf.writeUInt16LE(a.length, o + 12);
    buf.writeUInt16LE(b.length, o + 14);
    buf.writeUInt8(c.length, o + 16);
    o += 17;
    a.copy(buf, o);
    o += a.length;
    b.copy(buf, o);
    o += b.length;
    c.copy(buf, o);
    o += c.length;
  });
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
