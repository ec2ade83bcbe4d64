/**
 * Binary layouts of a user's behaviour history.
 *
 * The history is kept sorted by (ts, eventId) and split into segments of at most `segmentSize`
 * entries. The head blob lists the segments (id, count, first and last key), holds the
 * user-embedding accumulators and, inline, the bytes of the newest segment: an in-order behaviour
 * (the common case) is appended to those bytes without a read or write of any segment key, so a
 * user touched by a batch costs one read and one write of its head. Older segments live in their
 * own keys and are rewritten only when a late event is inserted into them; the cap evicts from
 * the oldest lazily (its `skip` leading entries are dead until the whole segment is, then its key
 * is deleted). Segments do not overlap: an entry with key k lives in the last segment whose first
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
  /** Live entries. */
  count: number;
  /** Dead entries at the front of the stored blob (evicted, not yet rewritten). */
  skip: number;
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
   * The encoded newest segment (the last of `segments`) when stored inline in the head (format 2);
   * null when there is no segment, or for a format-1 head, whose newest segment is in its own key.
   */
  open: Buffer | null;
  /**
   * Changes on every write (random uint32, 0 = unknown): a writer that caches the tables blob it
   * wrote for a user uses it only while the stored head still carries the stamp it wrote.
   */
  stamp: number;
  /** Seq of the last SDIM table delta written (libs/sdim tail.ts); 0 for heads before format 3. */
  tailSeq: number;
  /** Seq folded into the stored tables blob; tailSeq - foldedSeq deltas wait in the tail. */
  foldedSeq: number;
}

export function compareKey(aTs: number, aId: string, bTs: number, bId: string): number {
  if (aTs !== bTs) return aTs < bTs ? -1 : 1;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}

export const compareEntries = (a: Entry, b: Entry): number => compareKey(a.ts, a.eventId, b.ts, b.eventId);

export function emptyHead(d: number): Head {
  return { total: 0, nextSegId: 1, segments: [], anchorTs: 0, weight: 0, sum: sumArray(d).fill(0), newestTs: 0, open: null, stamp: 0, tailSeq: 0, foldedSeq: 0 };
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * Heads' sums are views on a shared pool: a Float64Array of d = 64 (512 bytes) gets its own
 * off-heap buffer, which cost more than decoding the rest of the head (a writer decodes one
 * head per touched user). A pool lives as long as a head using it.
 */
let sumPool = new Float64Array(0);
let sumPoolAt = 0;
function sumArray(d: number): Float64Array {
  if (sumPoolAt + d > sumPool.length) {
    sumPool = new Float64Array(Math.max(d, 16384));
    sumPoolAt = 0;
  }
  sumPoolAt += d;
  return sumPool.subarray(sumPoolAt - d, sumPoolAt);
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

/**
 * Head, format 2 (little-endian):
 *   0  u8 format (2), 1 reserved, 2 u16 d, 4 u32 total, 8 u32 nextSegId, 12 u32 segment count,
 *   16 f64 anchorTs, 24 f64 weight, 32 f64 newestTs, 40 u32 byte length of the inline newest
 *   segment, 44 u32 write stamp; then d x f64 sum; per segment: u32 id, u32 count, f64 firstTs,
 *   f64 lastTs, u16/u16 byte lengths of first/last eventId, u32 skip, the two ids; then the inline
 *   segment blob. Format 3 adds, at 48, u32 tailSeq and u32 foldedSeq of the SDIM delta tail (the
 *   rest follows at 56). Formats 1 (session 1: no skip, no inline segment, stamp ignored) and 2 are
 *   read too, with tailSeq = foldedSeq = 0 (their blobs carry folded seq 0 and have no tail).
 */
export const HEAD_FORMAT = 3;
const HEAD_FORMAT_V2 = 2;
const HEAD_FORMAT_V1 = 1;
const HEAD_BYTES = 56;
const HEAD_BYTES_V2 = 48;
const SEG_FORMAT = 1;

/**
 * The encoded head. `append`: entries to add after the inline segment `h.open` (which must then be
 * set): the bytes equal those of a head whose `open` is appendToSegment(h.open, append), without
 * building that intermediate copy of the segment (up to 256 entries, ~17 KB, per touched user).
 */
export function encodeHead(h: Head, append: readonly Entry[] = []): Buffer {
  const d = h.sum.length;
  // Byte lengths only: the ids are written straight into the head (no Buffer per id).
  const ids = h.segments.map((s) => [Buffer.byteLength(s.firstEventId, 'utf8'), Buffer.byteLength(s.lastEventId, 'utf8')]);
  const open = h.segments.length ? h.open : null;
  if (h.segments.length && !open) throw new Error('the newest segment must be inline in a format-2 head');
  if (append.length && !open) throw new Error('entries can only be appended to an inline segment');
  const openLength = open ? open.length + entriesByteLength(append) : 0;
  const size = HEAD_BYTES + 8 * d + ids.reduce((n, [a, b]) => n + 32 + a + b, 0) + openLength;
  const buf = Buffer.allocUnsafe(size);
  buf.fill(0, 0, HEAD_BYTES);
  buf.writeUInt8(HEAD_FORMAT, 0);
  buf.writeUInt16LE(d, 2);
  buf.writeUInt32LE(h.total, 4);
  buf.writeUInt32LE(h.nextSegId, 8);
  buf.writeUInt32LE(h.segments.length, 12);
  buf.writeDoubleLE(h.anchorTs, 16);
  buf.writeDoubleLE(h.weight, 24);
  buf.writeDoubleLE(h.newestTs, 32);
  buf.writeUInt32LE(openLength, 40);
  buf.writeUInt32LE(h.stamp >>> 0, 44);
  buf.writeUInt32LE(h.tailSeq, 48);
  buf.writeUInt32LE(h.foldedSeq, 52);
  let o = HEAD_BYTES;
  // The sums as one copy when the buffer allows an aligned float64 view (pooled buffers are 8-aligned).
  if (LITTLE_ENDIAN && (buf.byteOffset + o) % 8 === 0) new Float64Array(buf.buffer, buf.byteOffset + o, d).set(h.sum);
  else for (let k = 0; k < d; k++) buf.writeDoubleLE(h.sum[k], o + 8 * k);
  o += 8 * d;
  h.segments.forEach((s, i) => {
    const [a, b] = ids[i];
    buf.writeUInt32LE(s.id, o);
    buf.writeUInt32LE(s.count, o + 4);
    buf.writeDoubleLE(s.firstTs, o + 8);
    buf.writeDoubleLE(s.lastTs, o + 16);
    buf.writeUInt16LE(a, o + 24);
    buf.writeUInt16LE(b, o + 26);
    buf.writeUInt32LE(s.skip, o + 28);
    o += 32;
    o += buf.write(s.firstEventId, o, a, 'utf8');
    o += buf.write(s.lastEventId, o, b, 'utf8');
  });
  if (open) {
    open.copy(buf, o);
    if (append.length) {
      buf.writeUInt32LE(open.readUInt32LE(4) + append.length, o + 4);
      writeEntries(buf, o + open.length, append);
    }
  }
  return buf;
}

export function decodeHead(buf: Buffer): Head {
  const format = buf.readUInt8(0);
  if (format !== HEAD_FORMAT && format !== HEAD_FORMAT_V2 && format !== HEAD_FORMAT_V1) throw new Error('unknown history head format');
  const v1 = format === HEAD_FORMAT_V1;
  const v3 = format === HEAD_FORMAT;
  const fixed = v1 ? 28 : 32;
  const d = buf.readUInt16LE(2);
  const n = buf.readUInt32LE(12);
  const sum = sumArray(d);
  let o = v3 ? HEAD_BYTES : HEAD_BYTES_V2;
  if (buf.length < o + 8 * d) throw new RangeError('history head truncated');
  // One copy of the bytes (any alignment of the reply buffer).
  if (LITTLE_ENDIAN) new Uint8Array(sum.buffer, sum.byteOffset, 8 * d).set(buf.subarray(o, o + 8 * d));
  else for (let k = 0; k < d; k++) sum[k] = buf.readDoubleLE(o + 8 * k);
  o += 8 * d;
  const segments: SegmentMeta[] = [];
  for (let i = 0; i < n; i++) {
    const la = buf.readUInt16LE(o + 24);
    const lb = buf.readUInt16LE(o + 26);
    const start = o + fixed;
    segments.push({
      id: buf.readUInt32LE(o),
      count: buf.readUInt32LE(o + 4),
      skip: v1 ? 0 : buf.readUInt32LE(o + 28),
      firstTs: buf.readDoubleLE(o + 8),
      lastTs: buf.readDoubleLE(o + 16),
      firstEventId: buf.toString('utf8', start, start + la),
      lastEventId: buf.toString('utf8', start + la, start + la + lb),
    });
    o = start + la + lb;
  }
  const openLength = v1 ? 0 : buf.readUInt32LE(40);
  return {
    total: buf.readUInt32LE(4),
    nextSegId: buf.readUInt32LE(8),
    segments,
    anchorTs: buf.readDoubleLE(16),
    weight: buf.readDoubleLE(24),
    newestTs: buf.readDoubleLE(32),
    open: openLength ? buf.subarray(o, o + openLength) : null,
    stamp: v1 ? 0 : buf.readUInt32LE(44),
    tailSeq: v3 ? buf.readUInt32LE(48) : 0,
    foldedSeq: v3 ? buf.readUInt32LE(52) : 0,
    sum,
  };
}

/** Segment blob: u8 format, 3 reserved bytes, u32 count, then per entry f64 ts, u32 ver, u16/u16/u8 lengths of eventId/itemId/type, the strings. */
export function encodeSegment(entries: readonly Entry[]): Buffer {
  return appendToSegment(null, entries);
}

/** `raw` (an encoded segment, or null) followed by `entries`, without decoding `raw`. */
export function appendToSegment(raw: Buffer | null, entries: readonly Entry[]): Buffer {
  const buf = Buffer.allocUnsafe((raw ? raw.length : 8) + entriesByteLength(entries));
  if (raw) raw.copy(buf, 0);
  else buf.fill(0, 0, 8).writeUInt8(SEG_FORMAT, 0);
  buf.writeUInt32LE((raw ? raw.readUInt32LE(4) : 0) + entries.length, 4);
  writeEntries(buf, raw ? raw.length : 8, entries);
  return buf;
}

function entriesByteLength(entries: readonly Entry[]): number {
  let size = 0;
  for (const e of entries) size += 17 + Buffer.byteLength(e.eventId) + Buffer.byteLength(e.itemId) + Buffer.byteLength(e.type);
  return size;
}

/**
 * Writes `s` as UTF-8 at `o` (the room is there), returns its byte length. Short ASCII strings
 * (item ids, types) are copied in JS: cheaper than the native call, same bytes.
 */
function writeUtf8(buf: Buffer, s: string, o: number): number {
  const n = s.length;
  if (n > 24) return buf.write(s, o, 'utf8');
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return buf.write(s, o, 'utf8');
    buf[o + i] = c;
  }
  return n;
}

/** Writes the segment entries at `o` (the space is there: entriesByteLength). */
function writeEntries(buf: Buffer, o: number, entries: readonly Entry[]): void {
  for (const e of entries) {
    buf.writeDoubleLE(e.ts, o);
    buf.writeUInt32LE(e.ver, o + 8);
    const a = writeUtf8(buf, e.eventId, o + 17);
    const b = writeUtf8(buf, e.itemId, o + 17 + a);
    const c = writeUtf8(buf, e.type, o + 17 + a + b);
    buf.writeUInt16LE(a, o + 12);
    buf.writeUInt16LE(b, o + 14);
    buf.writeUInt8(c, o + 16);
    o += 17 + a + b + c;
  }
}

/** The entries of a segment blob after its first `skip` (dead) ones. */
export function decodeSegment(buf: Buffer, skip = 0): Entry[] {
  if (buf.readUInt8(0) !== SEG_FORMAT) throw new Error('unknown history segment format');
  const n = buf.readUInt32LE(4);
  if (skip > n) throw new Error(`history segment holds ${n} entries, cannot skip ${skip}`);
  const out: Entry[] = new Array(n - skip);
  let o = 8;
  for (let i = 0; i < skip; i++) o += 17 + buf.readUInt16LE(o + 12) + buf.readUInt16LE(o + 14) + buf.readUInt8(o + 16);
  for (let i = 0; i < n - skip; i++) {
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
