import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { decodeRecord, RecordBuffer, recordBytes, type ValueType } from './records';
import type { SimdMemory } from './simd-memory';
import { PostingReader, readFully, type PostingIoMode } from './posting-io';

/**
 * Posting lists on disk: one file, each list one contiguous run of fixed-size records
 * [u32 internal id][vector] (see records.ts for the value types), with spare capacity at its
 * end. Only the table (offset, length, capacity per list) is in memory.
 *
 * Invariant (copy-on-write): records [offset, offset + length) of a list are never overwritten
 * once written. Appends go into the spare capacity past `length`; a full list is copied to the
 * end of the file; a rewritten list (split, purge) goes to the end too. So a snapshot's table
 * saved in the same directory stays valid while the live index keeps growing the file; the
 * price is dead space, reclaimed by a compacted copy (a new posting file generation, or a
 * snapshot saved into another directory).
 */
export interface PostingTables {
  offsets: Float64Array;
  lengths: Uint32Array;
  capacities: Uint32Array;
  listCount: number;
  fileEnd: number;
}

export interface CompactOptions {
  /** Value type of the copy (default: the store's); records are re-encoded when it differs. */
  valueType?: ValueType;
  /** Records whose internal id fails this are left out of the copy. */
  keep?: (iid: number) => boolean;
}

export class PostingStore {
  valueType: ValueType;
  recBytes: number;
  /** u32 words per record: record r of a read starting at word w has its id at u32[w + r * recWords]. */
  recWords: number;
  path: string;
  private fd: number;
  private offsets: Float64Array;
  private lengths: Uint32Array;
  private capacities: Uint32Array;
  listCount: number;
  fileEnd: number;
  /** Records in all lists (live and tombstoned), for the dead-space ratio. */
  records = 0;
  private readonly sm: SimdMemory;
  /**
   * Read buffer in SIMD memory (bufPtr, bufBytes), plus a distance slot (distPtr) and an index
   * slot (idxPtr) per record for the scan kernels' (row, distance) output.
   */
  bufPtr = 0;
  private bufBytes = 0;
  distPtr = 0;
  idxPtr = 0;
  /** Views of the whole SIMD memory, refreshed by every read (growing the memory detaches them). */
  ids: Uint32Array = new Uint32Array(0);
  vecs: Float32Array = new Float32Array(0);
  bytes: Uint8Array = new Uint8Array(0);
  /** The read buffer as a view (the reader's destination), re-derived when memory grows. */
  private spanDst: Uint8Array = new Uint8Array(0);
  private spanBase = -1;
  private one: RecordBuffer;
  /** Batched reads of a query's lists (mmap gather, io_uring or readSync; see posting-io.ts). */
  readonly reader: PostingReader;

  private constructor(
    path: string,
    readonly dim: number,
    fd: number,
    valueType: ValueType,
    t: PostingTables,
    sm: SimdMemory,
  ) {
    this.sm = sm;
    this.path = path;
    this.fd = fd;
    this.reader = new PostingReader(fd);
    this.valueType = valueType;
    this.recBytes = recordBytes(dim, valueType);
    this.recWords = this.recBytes >> 2;
    this.one = new RecordBuffer(dim, valueType, 1);
    this.offsets = t.offsets;
    this.lengths = t.lengths;
    this.capacities = t.capacities;
    this.listCount = t.listCount;
    this.fileEnd = t.fileEnd;
    for (let l = 0; l < t.listCount; l++) this.records += t.lengths[l];
    this.growBuffer(this.recBytes * 64);
  }

  /** A new, empty posting file (truncates an existing one). */
  static create(path: string, dim: number, valueType: ValueType, sm: SimdMemory): PostingStore {
    const fd = openSync(path, 'w+');
    return new PostingStore(path, dim, fd, valueType, emptyTables(), sm);
  }

  static open(path: string, dim: number, valueType: ValueType, t: PostingTables, sm: SimdMemory): PostingStore {
    return new PostingStore(path, dim, openSync(path, 'r+'), valueType, t, sm);
  }

  offset(list: number): number {
    return this.offsets[list];
  }

  length(list: number): number {
    return this.lengths[list];
  }

  /**
   * Reads list into the read buffer with one positional read; returns its record count. Record r
   * is then at byte bufPtr + r * recBytes of SIMD memory (see idAt / decode), valid until the
   * next read.
   */
  read(list: number): number {
    const len = this.lengths[list];
    this.readSpan(this.offsets[list], len * this.recBytes);
    return len;
  }

  /**
   * One positional read of [pos, pos + bytes) straight into the read buffer in SIMD memory, where
   * the scan kernels work on it (several lists that lie close together are read at once).
   */
  readSpan(pos: number, bytes: number): void {
    this.ensureBuffer(bytes);
    readFully(this.fd, this.bytes, this.bufPtr, bytes, pos);
  }

  /**
   * Reads n ranges at once (file offset pos[i], len[i] bytes, to byte bufPtr + dstOff[i] of SIMD
   * memory) through the reader: one call for all the lists of a query. The caller sized the
   * buffer with ensureBuffer(total).
   */
  readSpans(pos: Float64Array, len: Uint32Array, dstOff: Uint32Array, n: number): void {
    if (this.bytes.buffer !== this.sm.buffer || this.bytes.length === 0) this.views();
    if (this.bufPtr !== this.spanBase) {
      this.spanBase = this.bufPtr;
      this.spanDst = this.bytes.subarray(this.bufPtr, this.bufPtr + this.bufBytes);
    } else if (this.spanDst.buffer !== this.bytes.buffer) {
      this.spanDst = this.bytes.subarray(this.bufPtr, this.bufPtr + this.bufBytes);
    }
    this.reader.read(this.spanDst, pos, len, dstOff, n);
  }

  /** Grows the read buffer to at least bytes (views refreshed). */
  ensureBuffer(bytes: number): void {
    if (bytes > this.bufBytes) this.growBuffer(bytes);
    if (this.bytes.buffer !== this.sm.buffer || this.bytes.length === 0) this.views();
  }

  /** Capacity of the read buffer in bytes. */
  bufferBytes(): number {
    return this.bufBytes;
  }

  get ioMode(): PostingIoMode {
    return this.reader.mode;
  }

  /** Internal id of record r of the last read(list). */
  idAt(r: number): number {
    return this.ids[(this.bufPtr >> 2) + r * this.recWords];
  }

  /** Decodes the vector of record r of the last read(list) into out[off..off+dim). */
  decode(r: number, out: Float32Array, off: number): void {
    decodeRecord(this.valueType, this.dim, this.bytes, this.vecs, this.bufPtr + r * this.recBytes, out, off);
  }

  /** The encoded bytes of records [from, to) of the last read(list) (a view, valid until the next read). */
  recordBytesOf(from: number, to: number): Uint8Array {
    return this.bytes.subarray(this.bufPtr + from * this.recBytes, this.bufPtr + to * this.recBytes);
  }

  /** A record buffer in this store's layout. */
  newBuffer(capacity: number): RecordBuffer {
    return new RecordBuffer(this.dim, this.valueType, capacity);
  }

  /**
   * Writes a list from `count` encoded records at the end of the file with room for `capacity`
   * records. list === listCount adds a new list.
   */
  writeList(list: number, records: Uint8Array, count: number, capacity: number): void {
    if (list > this.listCount) throw new Error('PostingStore: lists must be added in order');
    if (list === this.listCount) this.addSlot();
    const cap = Math.max(count, capacity);
    const at = this.fileEnd;
    const bytes = count * this.recBytes;
    if (bytes > 0) this.writeFully(records.subarray(0, bytes), at);
    this.records += count - this.lengths[list];
    this.offsets[list] = at;
    this.lengths[list] = count;
    this.capacities[list] = cap;
    this.fileEnd = at + cap * this.recBytes;
  }

  /** Appends one record; moves the list to the end of the file (with new capacity) when full. */
  append(list: number, id: number, vec: ArrayLike<number>, vOff: number, growTo: number): void {
    this.one.set(0, id, vec, vOff);
    const rec = this.one.view(1);
    const len = this.lengths[list];
    this.records++;
    if (len < this.capacities[list]) {
      this.writeFully(rec, this.offsets[list] + len * this.recBytes);
      this.lengths[list] = len + 1;
      return;
    }
    this.read(list);
    const cap = Math.max(growTo, len + 1);
    const at = this.fileEnd;
    this.writeFully(this.recordBytesOf(0, len), at);
    this.writeFully(rec, at + len * this.recBytes);
    this.offsets[list] = at;
    this.lengths[list] = len + 1;
    this.capacities[list] = cap;
    this.fileEnd = at + cap * this.recBytes;
  }

  tables(): PostingTables {
    const n = this.listCount;
    return {
      offsets: this.offsets.slice(0, n),
      lengths: this.lengths.slice(0, n),
      capacities: this.capacities.slice(0, n),
      listCount: n,
      fileEnd: this.fileEnd,
    };
  }

  /** Bytes of the records in the lists (what a compacted copy would hold). */
  liveBytes(): number {
    return this.records * this.recBytes;
  }

  /**
   * Writes every list contiguously (capacity = length) into a new file at path (through a temp
   * file renamed into place), optionally re-encoded and without some records; returns its tables.
   */
  writeCompactCopy(path: string, opts: CompactOptions = {}): PostingTables {
    const vt = opts.valueType ?? this.valueType;
    const out = new RecordBuffer(this.dim, vt, 64);
    const vec = new Float32Array(this.dim);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    const n = this.listCount;
    const t: PostingTables = { offsets: new Float64Array(n), lengths: new Uint32Array(n), capacities: new Uint32Array(n), listCount: n, fileEnd: 0 };
    try {
      let pos = 0;
      for (let l = 0; l < n; l++) {
        const len = this.read(l);
        let kept = 0;
        out.ensure(len);
        for (let r = 0; r < len; r++) {
          const iid = this.idAt(r);
          if (opts.keep && !opts.keep(iid)) continue;
          if (vt === this.valueType) out.copyFrom(kept++, this.bytes, this.bufPtr + r * this.recBytes);
          else {
            this.decode(r, vec, 0);
            out.set(kept++, iid, vec, 0);
          }
        }
        const bytes = out.view(kept);
        let w = 0;
        while (w < bytes.length) w += writeSync(fd, bytes, w, bytes.length - w, pos + w);
        t.offsets[l] = pos;
        t.lengths[l] = kept;
        t.capacities[l] = kept;
        pos += bytes.length;
      }
      t.fileEnd = pos;
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return t;
  }

  /** Switches this store to another posting file (e.g. a compacted copy written by writeCompactCopy). */
  switchTo(path: string, valueType: ValueType, t: PostingTables): void {
    const fd = openSync(path, 'r+');
    this.close();
    this.fd = fd;
    this.reader.reopen(fd);
    this.path = path;
    if (valueType !== this.valueType) {
      this.valueType = valueType;
      this.recBytes = recordBytes(this.dim, valueType);
      this.recWords = this.recBytes >> 2;
      this.one = new RecordBuffer(this.dim, valueType, 1);
      this.bufBytes = 0;
    }
    const cap = Math.max(64, t.listCount * 2);
    this.offsets = new Float64Array(cap);
    this.lengths = new Uint32Array(cap);
    this.capacities = new Uint32Array(cap);
    this.offsets.set(t.offsets.subarray(0, t.listCount));
    this.lengths.set(t.lengths.subarray(0, t.listCount));
    this.capacities.set(t.capacities.subarray(0, t.listCount));
    this.listCount = t.listCount;
    this.fileEnd = t.fileEnd;
    this.records = 0;
    for (let l = 0; l < t.listCount; l++) this.records += t.lengths[l];
    this.growBuffer(this.recBytes * 64);
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    this.reader.close();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Resident bytes: the table (the read buffer is SIMD memory, counted by the index). */
  memoryBytes(): number {
    return this.offsets.byteLength + this.lengths.byteLength + this.capacities.byteLength + this.one.bytes.byteLength;
  }

  private writeFully(b: Uint8Array, pos: number): void {
    let w = 0;
    while (w < b.length) w += writeSync(this.fd, b, w, b.length - w, pos + w);
  }

  private addSlot(): void {
    if (this.listCount === this.offsets.length) {
      const n = this.offsets.length * 2;
      const o = new Float64Array(n);
      o.set(this.offsets);
      const l = new Uint32Array(n);
      l.set(this.lengths);
      const c = new Uint32Array(n);
      c.set(this.capacities);
      this.offsets = o;
      this.lengths = l;
      this.capacities = c;
    }
    this.listCount++;
  }

  private views(): void {
    this.ids = this.sm.u32();
    this.vecs = this.sm.f32();
    this.bytes = new Uint8Array(this.sm.buffer);
  }

  /** Read buffer of at least `bytes` (x1.5 growth) plus an index and a distance slot per record. */
  private growBuffer(bytes: number): void {
    if (this.bufPtr !== 0) {
      this.sm.free(this.bufPtr);
      this.sm.free(this.distPtr);
      this.sm.free(this.idxPtr);
    }
    this.bufBytes = Math.max(bytes, Math.ceil(this.bufBytes * 1.5));
    this.bufPtr = this.sm.alloc(this.bufBytes);
    this.spanBase = -1;
    const slots = Math.ceil(this.bufBytes / this.recBytes) * 4 + 16;
    this.distPtr = this.sm.alloc(slots);
    this.idxPtr = this.sm.alloc(slots);
    this.views();
  }
}

function emptyTables(): PostingTables {
  return { offsets: new Float64Array(64), lengths: new Uint32Array(64), capacities: new Uint32Array(64), listCount: 0, fileEnd: 0 };
}
