import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { SimdMemory } from './simd-memory';

/**
 * Posting lists on disk: one file, each list one contiguous run of fixed-size records
 * [u32 internal id][dim x f32 stored vector], with spare capacity at its end. Only the table
 * (offset, length, capacity per list) is in memory.
 *
 * Invariant (copy-on-write): records [offset, offset + length) of a list are never overwritten
 * once written. Appends go into the spare capacity past `length`; a full list is copied to the
 * end of the file; a rewritten list (split, purge) goes to the end too. So a snapshot's table
 * saved in the same directory stays valid while the live index keeps growing the file; the
 * price is dead space, reclaimed when a snapshot is saved into another directory (compacted).
 */
export interface PostingTables {
  offsets: Float64Array;
  lengths: Uint32Array;
  capacities: Uint32Array;
  listCount: number;
  fileEnd: number;
}

export class PostingStore {
  readonly recFloats: number;
  readonly recBytes: number;
  private fd: number;
  private offsets: Float64Array;
  private lengths: Uint32Array;
  private capacities: Uint32Array;
  listCount: number;
  fileEnd: number;
  private readonly sm: SimdMemory;
  /** Read buffer in SIMD memory (bufPtr, bufBytes) and a distance slot per record (distPtr). */
  bufPtr = 0;
  private bufBytes = 0;
  distPtr = 0;
  /**
   * Views of the whole SIMD memory, refreshed by every read. After read(list), record r of the
   * list has its id at ids[base + r * recFloats] and its vector from vecs[base + r * recFloats + 1].
   */
  ids: Uint32Array = new Uint32Array(0);
  vecs: Float32Array = new Float32Array(0);
  base = 0;
  private readonly one: Buffer;
  private readonly oneF: Float32Array;
  private readonly oneU: Uint32Array;

  private constructor(
    readonly path: string,
    readonly dim: number,
    fd: number,
    t: PostingTables,
    sm: SimdMemory,
  ) {
    this.sm = sm;
    this.fd = fd;
    this.recFloats = dim + 1;
    this.recBytes = this.recFloats * 4;
    this.offsets = t.offsets;
    this.lengths = t.lengths;
    this.capacities = t.capacities;
    this.listCount = t.listCount;
    this.fileEnd = t.fileEnd;
    this.growBuffer(this.recBytes * 64);
    this.one = Buffer.allocUnsafeSlow(this.recBytes);
    this.oneF = new Float32Array(this.one.buffer, 0, this.recFloats);
    this.oneU = new Uint32Array(this.one.buffer, 0, this.recFloats);
  }

  /** A new, empty posting file (truncates an existing one). */
  static create(path: string, dim: number, sm: SimdMemory): PostingStore {
    const fd = openSync(path, 'w+');
    return new PostingStore(path, dim, fd, {
      offsets: new Float64Array(64),
      lengths: new Uint32Array(64),
      capacities: new Uint32Array(64),
      listCount: 0,
      fileEnd: 0,
    }, sm);
  }

  static open(path: string, dim: number, t: PostingTables, sm: SimdMemory): PostingStore {
    return new PostingStore(path, dim, openSync(path, 'r+'), t, sm);
  }

  offset(list: number): number {
    return this.offsets[list];
  }

  length(list: number): number {
    return this.lengths[list];
  }

  /**
   * Reads list into the read buffer with one positional read; returns its record count.
   * The ids / vecs views are valid until the next read (they may be replaced when it grows).
   */
  read(list: number): number {
    const len = this.lengths[list];
    this.readSpan(this.offsets[list], len * this.recBytes);
    return len;
  }

  /**
   * One positional read of [pos, pos + bytes) into the read buffer (several lists that lie close
   * together in the file are read at once). Refreshes ids / vecs; base = start of the span.
   */
  readSpan(pos: number, bytes: number): void {
    if (bytes > this.bufBytes) this.growBuffer(bytes);
    const view = this.sm.bytes(this.bufPtr, bytes);
    let got = 0;
    while (got < bytes) {
      const r = readSync(this.fd, view, got, bytes - got, pos + got);
      if (r <= 0) throw new Error(`PostingStore: short read at ${pos}`);
      got += r;
    }
    if (this.ids.buffer !== this.sm.buffer || this.ids.length === 0) {
      this.ids = this.sm.u32();
      this.vecs = this.sm.f32();
    }
    this.base = this.bufPtr >> 2;
  }

  /** Copies the first count records of the last read (e.g. before the next read). */
  copyRecords(count: number): Float32Array {
    return this.vecs.slice(this.base, this.base + count * this.recFloats);
  }

  /**
   * Writes a list from records (flat [id-as-f32-bits][vector] rows, as produced by the read views)
   * at the end of the file with room for `capacity` records. list === listCount adds a new list.
   */
  writeList(list: number, records: Float32Array, count: number, capacity: number): void {
    if (list > this.listCount) throw new Error('PostingStore: lists must be added in order');
    if (list === this.listCount) this.addSlot();
    const cap = Math.max(count, capacity);
    const at = this.fileEnd;
    const bytes = count * this.recBytes;
    if (bytes > 0) this.writeFully(Buffer.from(records.buffer, records.byteOffset, bytes), at);
    this.offsets[list] = at;
    this.lengths[list] = count;
    this.capacities[list] = cap;
    this.fileEnd = at + cap * this.recBytes;
  }

  /** Appends one record; moves the list to the end of the file (with new capacity) when full. */
  append(list: number, id: number, vec: Float32Array, vOff: number, growTo: number): void {
    this.oneU[0] = id;
    for (let i = 0; i < this.dim; i++) this.oneF[1 + i] = vec[vOff + i];
    const len = this.lengths[list];
    if (len < this.capacities[list]) {
      this.writeFully(this.one, this.offsets[list] + len * this.recBytes);
      this.lengths[list] = len + 1;
      return;
    }
    this.read(list);
    const cap = Math.max(growTo, len + 1);
    const at = this.fileEnd;
    this.writeFully(this.sm.bytes(this.bufPtr, len * this.recBytes), at);
    this.writeFully(this.one, at + len * this.recBytes);
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

  /** Bytes of live records (what a compacted copy would hold). */
  liveBytes(): number {
    let s = 0;
    for (let i = 0; i < this.listCount; i++) s += this.lengths[i] * this.recBytes;
    return s;
  }

  /** Writes every list contiguously (capacity = length) into a new file; returns its tables. */
  writeCompactCopy(path: string): PostingTables {
    const fd = openSync(path, 'w');
    const n = this.listCount;
    const t: PostingTables = {
      offsets: new Float64Array(n),
      lengths: this.lengths.slice(0, n),
      capacities: this.lengths.slice(0, n),
      listCount: n,
      fileEnd: 0,
    };
    try {
      let pos = 0;
      for (let l = 0; l < n; l++) {
        const len = this.read(l);
        t.offsets[l] = pos;
        const bytes = len * this.recBytes;
        const view = this.sm.bytes(this.bufPtr, bytes);
        let w = 0;
        while (w < bytes) w += writeSync(fd, view, w, bytes - w, pos + w);
        pos += bytes;
      }
      t.fileEnd = pos;
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return t;
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Resident bytes: the table (the read buffer is SIMD memory, counted by the index). */
  memoryBytes(): number {
    return this.offsets.byteLength + this.lengths.byteLength + this.capacities.byteLength + this.one.length;
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

  /** Read buffer of at least `bytes` (x1.5 growth) plus one distance slot per record. */
  private growBuffer(bytes: number): void {
    if (this.bufPtr !== 0) {
      this.sm.free(this.bufPtr);
      this.sm.free(this.distPtr);
    }
    this.bufBytes = Math.max(bytes, Math.ceil(this.bufBytes * 1.5));
    this.bufPtr = this.sm.alloc(this.bufBytes);
    this.distPtr = this.sm.alloc(Math.ceil(this.bufBytes / this.recBytes) * 4 + 16);
    this.ids = this.sm.u32();
    this.vecs = this.sm.f32();
  }
}
