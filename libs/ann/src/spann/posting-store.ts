import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

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
  /** Read buffer and its two views (record r: ids[r * recFloats], vector at vecs[r * recFloats + 1]). */
  private buf: Buffer;
  ids: Uint32Array;
  vecs: Float32Array;
  private readonly one: Buffer;
  private readonly oneF: Float32Array;
  private readonly oneU: Uint32Array;

  private constructor(
    readonly path: string,
    readonly dim: number,
    fd: number,
    t: PostingTables,
  ) {
    this.fd = fd;
    this.recFloats = dim + 1;
    this.recBytes = this.recFloats * 4;
    this.offsets = t.offsets;
    this.lengths = t.lengths;
    this.capacities = t.capacities;
    this.listCount = t.listCount;
    this.fileEnd = t.fileEnd;
    this.buf = Buffer.allocUnsafeSlow(this.recBytes * 64);
    this.ids = new Uint32Array(this.buf.buffer, 0, this.buf.length / 4);
    this.vecs = new Float32Array(this.buf.buffer, 0, this.buf.length / 4);
    this.one = Buffer.allocUnsafeSlow(this.recBytes);
    this.oneF = new Float32Array(this.one.buffer, 0, this.recFloats);
    this.oneU = new Uint32Array(this.one.buffer, 0, this.recFloats);
  }

  /** A new, empty posting file (truncates an existing one). */
  static create(path: string, dim: number): PostingStore {
    const fd = openSync(path, 'w+');
    return new PostingStore(path, dim, fd, {
      offsets: new Float64Array(64),
      lengths: new Uint32Array(64),
      capacities: new Uint32Array(64),
      listCount: 0,
      fileEnd: 0,
    });
  }

  static open(path: string, dim: number, t: PostingTables): PostingStore {
    return new PostingStore(path, dim, openSync(path, 'r+'), t);
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
    const bytes = len * this.recBytes;
    if (bytes > this.buf.length) this.growBuffer(bytes);
    let got = 0;
    while (got < bytes) {
      const r = readSync(this.fd, this.buf, got, bytes - got, this.offsets[list] + got);
      if (r <= 0) throw new Error(`PostingStore: short read in list ${list}`);
      got += r;
    }
    return len;
  }

  /** Copies the current read buffer's first count records (e.g. before the next read). */
  copyRecords(count: number): Float32Array {
    return this.vecs.slice(0, count * this.recFloats);
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
    this.writeFully(this.buf.subarray(0, len * this.recBytes), at);
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
        let w = 0;
        while (w < bytes) w += writeSync(fd, this.buf, w, bytes - w, pos + w);
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

  /** Resident bytes: the table plus the read buffer. */
  memoryBytes(): number {
    return this.offsets.byteLength + this.lengths.byteLength + this.capacities.byteLength + this.buf.length + this.one.length;
  }

  private writeFully(b: Buffer, pos: number): void {
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

  private growBuffer(bytes: number): void {
    const size = Math.max(bytes, this.buf.length * 2);
    const nb = Buffer.allocUnsafeSlow(size);
    this.buf = nb;
    this.ids = new Uint32Array(nb.buffer, 0, nb.length / 4);
    this.vecs = new Float32Array(nb.buffer, 0, nb.length / 4);
  }
}
