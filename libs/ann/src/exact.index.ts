import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { distanceAt, l2sq, prepareVector } from './distance';
import { compileFilter, GroupCodes, idTableBytes, NO_GROUP, passes } from './groups';
import { TopK } from './topk';
import type { Metric, SearchFilter, SearchHit, SearchOptions, VectorIndex } from './vector-index.port';

export interface ExactIndexOptions {
  /** Slots allocated up front (grows x2 when full). */
  initialCapacity?: number;
}

const META_FILE = 'exact.meta.json';
const VECTORS_FILE = 'exact.vectors.f32';

/**
 * Brute-force index: the oracle for every recall figure. Vectors live in one contiguous
 * Float32Array (slot-major), cosine vectors stored normalised. Invariant: slots 0..count-1 are
 * all live; remove moves the last slot into the hole (swap-remove), so scans never skip holes.
 */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  private data: Float32Array;
  private slotGroup: Int32Array;
  private capacity: number;
  private count = 0;
  private slotIds: string[] = [];
  private readonly idSlot = new Map<string, number>();
  private readonly groups = new GroupCodes();
  private idChars = 0;
  private readonly scratch: Float32Array;

  constructor(
    readonly dim: number,
    readonly metric: Metric,
    opts: ExactIndexOptions = {},
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new Error(`ExactIndex: bad dim ${dim}`);
    this.capacity = Math.max(16, opts.initialCapacity ?? 1024);
    this.data = new Float32Array(this.capacity * dim);
    this.slotGroup = new Int32Array(this.capacity);
    this.scratch = new Float32Array(dim);
  }

  size(): number {
    return this.count;
  }

  has(id: string): boolean {
    return this.idSlot.has(id);
  }

  upsert(id: string, vector: Float32Array | number[], group?: string): void {
    const v = prepareVector(vector, this.dim, this.metric, this.scratch);
    let slot = this.idSlot.get(id);
    if (slot === undefined) {
      if (this.count === this.capacity) this.grow();
      slot = this.count++;
      this.idSlot.set(id, slot);
      this.slotIds[slot] = id;
      this.idChars += id.length;
    } else {
      this.groups.add(this.slotGroup[slot], -1);
    }
    this.data.set(v, slot * this.dim);
    const code = group === undefined ? NO_GROUP : this.groups.intern(group);
    this.slotGroup[slot] = code;
    this.groups.add(code, 1);
  }

  remove(id: string): boolean {
    const slot = this.idSlot.get(id);
    if (slot === undefined) return false;
    const last = this.count - 1;
    this.groups.add(this.slotGroup[slot], -1);
    if (slot !== last) {
      const lastId = this.slotIds[last];
      this.data.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
      this.slotGroup[slot] = this.slotGroup[last];
      this.slotIds[slot] = lastId;
      this.idSlot.set(lastId, slot);
    }
    this.slotIds.length = last;
    this.idSlot.delete(id);
    this.idChars -= id.length;
    this.count = last;
    return true;
  }

  search(query: Float32Array | number[], k: number, filter?: SearchFilter, _options?: SearchOptions): SearchHit[] {
    const q = prepareVector(query, this.dim, this.metric);
    const top = new TopK(Math.min(Math.max(0, Math.floor(k)), this.count));
    if (top.k === 0) return [];
    const dim = this.dim;
    const data = this.data;
    const n = this.count;
    if (filter === undefined || (filter.groups === undefined && filter.excludeIds === undefined)) {
      if (this.metric === 'l2') {
        for (let s = 0, off = 0; s < n; s++, off += dim) {
          const d = l2sq(q, 0, data, off, dim);
          if (d < top.bound) top.push(d, s);
        }
      } else {
        for (let s = 0, off = 0; s < n; s++, off += dim) {
          const d = distanceAt(this.metric, q, data, off, dim);
          if (d < top.bound) top.push(d, s);
        }
      }
    } else {
      const f = compileFilter(filter, this.groups, (id) => this.idSlot.get(id), n);
      for (let s = 0, off = 0; s < n; s++, off += dim) {
        if (!passes(f, s, this.slotGroup[s])) continue;
        const d = distanceAt(this.metric, q, data, off, dim);
        if (d <= top.bound) top.push(d, s);
      }
    }
    return top.sorted().map((e) => ({ id: this.slotIds[e.slot], distance: e.distance }));
  }

  /** The stored vector of id (normalised for cosine), or undefined. */
  vectorOf(id: string): Float32Array | undefined {
    const s = this.idSlot.get(id);
    return s === undefined ? undefined : this.data.slice(s * this.dim, (s + 1) * this.dim);
  }

  groupOf(id: string): string | undefined {
    const s = this.idSlot.get(id);
    return s === undefined ? undefined : this.groups.name(this.slotGroup[s]);
  }

  ids(): string[] {
    return this.slotIds.slice(0, this.count);
  }

  memoryBytes(): number {
    return this.data.byteLength + this.slotGroup.byteLength + idTableBytes(this.count, this.idChars) + this.groups.memoryBytes();
  }

  params(): Record<string, unknown> {
    return { metric: this.metric, dim: this.dim };
  }

  async save(dir: string): Promise<void> {
    await fsp.mkdir(dir, { recursive: true });
    const n = this.count;
    const vec = Buffer.from(this.data.buffer, this.data.byteOffset, n * this.dim * 4);
    const meta = {
      kind: 'exact',
      version: 1,
      dim: this.dim,
      metric: this.metric,
      count: n,
      ids: this.slotIds.slice(0, n),
      groupNames: this.groups.allNames(),
      slotGroup: Array.from(this.slotGroup.subarray(0, n)),
    };
    // Vectors first, meta last: a reader that finds the meta finds complete vectors.
    await fsp.writeFile(join(dir, VECTORS_FILE), vec);
    await fsp.writeFile(join(dir, META_FILE), JSON.stringify(meta));
  }

  static async load(dir: string): Promise<ExactIndex> {
    const meta = JSON.parse(await fsp.readFile(join(dir, META_FILE), 'utf8')) as {
      kind: string;
      dim: number;
      metric: Metric;
      count: number;
      ids: string[];
      groupNames: string[];
      slotGroup: number[];
    };
    if (meta.kind !== 'exact') throw new Error(`ExactIndex.load: ${dir} holds a ${meta.kind} snapshot`);
    const buf = await fsp.readFile(join(dir, VECTORS_FILE));
    if (buf.length !== meta.count * meta.dim * 4) throw new Error(`ExactIndex.load: vector file size ${buf.length} does not match meta`);
    const idx = new ExactIndex(meta.dim, meta.metric, { initialCapacity: meta.count });
    const codes = meta.groupNames.map((g) => idx.groups.intern(g));
    // Bytes are copied into the (aligned) slot storage; vectors are already normalised.
    new Uint8Array(idx.data.buffer).set(buf);
    for (let s = 0; s < meta.count; s++) {
      const id = meta.ids[s];
      idx.slotIds[s] = id;
      idx.idSlot.set(id, s);
      idx.idChars += id.length;
      const code = meta.slotGroup[s] === NO_GROUP ? NO_GROUP : codes[meta.slotGroup[s]];
      idx.slotGroup[s] = code;
      idx.groups.add(code, 1);
    }
    idx.count = meta.count;
    return idx;
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const data = new Float32Array(cap * this.dim);
    data.set(this.data.subarray(0, this.count * this.dim));
    const groups = new Int32Array(cap);
    groups.set(this.slotGroup.subarray(0, this.count));
    this.data = data;
    this.slotGroup = groups;
    this.capacity = cap;
  }
}
