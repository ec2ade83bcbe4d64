import { readSections, u32, u8, writeSections } from './binfile';

const EMPTY = -1;
/** Linear probing stays short (~2 probes on hits) up to this load. */
const MAX_LOAD = 0.7;

/**
 * String ids <-> dense internal uint32 ids, plus each internal id's group and tombstone.
 *
 * Compact on purpose (the resident budget of SPANN is a fraction of the raw vectors): the id
 * strings live UTF-8 encoded in one byte arena (starts[i]..starts[i+1]), lookups go through an
 * open-addressing hash of internal ids (linear probing, load <= 0.7, backward-shift deletion).
 * About (id bytes + 4 + 6..12 + 2) bytes per id instead of ~60 for a Map<string, number>.
 *
 * Internal ids are never reused: removing or re-upserting an id tombstones the old internal id
 * (its records may still sit in posting lists on disk and are skipped by search).
 */
export class IdTable {
  private arena: Uint8Array;
  private arenaLen = 0;
  private starts: Uint32Array;
  /** Internal ids allocated (live + dead). */
  count = 0;
  live = 0;
  private slots: Int32Array;
  private mask: number;
  private groupOf: Uint16Array | Uint32Array;
  private tomb: Uint8Array;
  private readonly groupNames: string[] = [];
  /** Live ids per group code (index 0 = no group): filtered searches size their probe from it. */
  private groupLive = new Uint32Array(16);
  private readonly groupIndex = new Map<string, number>();
  private scratch = new Uint8Array(256);

  constructor(capacity = 1024, arenaBytes = capacity * 8) {
    const cap = Math.max(16, capacity);
    this.arena = new Uint8Array(Math.max(16, arenaBytes));
    this.starts = new Uint32Array(cap + 1);
    this.slots = new Int32Array(nextPow2(Math.ceil(cap / MAX_LOAD))).fill(EMPTY);
    this.mask = this.slots.length - 1;
    this.groupOf = new Uint16Array(cap);
    this.tomb = new Uint8Array((cap + 7) >> 3);
  }

  /** Internal id of a live string id, or -1. */
  lookup(id: string): number {
    const len = this.encode(id);
    let i = fnv(this.scratch, 0, len) & this.mask;
    for (;;) {
      const v = this.slots[i];
      if (v === EMPTY) return -1;
      if (this.equals(v, len)) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Allocates a new internal id for a string id that is not live. */
  add(id: string, group?: string): number {
    const len = this.encode(id);
    const iid = this.count;
    this.ensureCapacity(iid + 1, len);
    this.arena.set(this.scratch.subarray(0, len), this.arenaLen);
    this.starts[iid] = this.arenaLen;
    this.arenaLen += len;
    this.starts[iid + 1] = this.arenaLen;
    this.count++;
    this.setGroup(iid, group);
    if (this.live + 1 > this.slots.length * MAX_LOAD) this.rehash(this.slots.length * 2);
    this.insertSlot(iid, fnv(this.scratch, 0, len));
    this.live++;
    return iid;
  }

  /** Tombstones the live internal id of `id`; returns it, or -1 when absent. */
  remove(id: string): number {
    const len = this.encode(id);
    let i = fnv(this.scratch, 0, len) & this.mask;
    for (;;) {
      const v = this.slots[i];
      if (v === EMPTY) return -1;
      if (this.equals(v, len)) break;
      i = (i + 1) & this.mask;
    }
    const iid = this.slots[i];
    this.groupLive[this.groupOf[iid]]--;
    this.deleteSlot(i);
    this.tomb[iid >> 3] |= 1 << (iid & 7);
    this.live--;
    return iid;
  }

  /**
   * Gives the live internal id iid's string id a new internal id (same group) and tombstones iid:
   * every record of iid already on disk turns dead at once. This is how a vector is moved between
   * posting lists (SPFresh's version bump): it is re-written under the new id to the lists it
   * belongs to now. Returns the new internal id.
   */
  renew(iid: number): number {
    const s = this.starts[iid];
    const len = this.starts[iid + 1] - s;
    if (this.scratch.length < len) this.scratch = new Uint8Array(len * 2);
    this.scratch.set(this.arena.subarray(s, s + len));
    let slot = fnv(this.scratch, 0, len) & this.mask;
    while (this.slots[slot] !== iid) {
      if (this.slots[slot] === EMPTY) throw new Error(`IdTable: internal id ${iid} is not live`);
      slot = (slot + 1) & this.mask;
    }
    const nid = this.count;
    this.ensureCapacity(nid + 1, len);
    this.arena.set(this.scratch.subarray(0, len), this.arenaLen);
    this.starts[nid] = this.arenaLen;
    this.arenaLen += len;
    this.starts[nid + 1] = this.arenaLen;
    this.count++;
    this.groupOf[nid] = this.groupOf[iid];
    this.slots[slot] = nid;
    this.tomb[iid >> 3] |= 1 << (iid & 7);
    return nid;
  }

  isDead(iid: number): boolean {
    return (this.tomb[iid >> 3] & (1 << (iid & 7))) !== 0;
  }

  /** The tombstone bitset (bit iid); exposed for the scan loop. Replaced when the table grows. */
  tombBits(): Uint8Array {
    return this.tomb;
  }

  /** Group code per internal id (0 = no group); replaced when the table grows. */
  groupCodes(): Uint16Array | Uint32Array {
    return this.groupOf;
  }

  /** Code of a group name (>= 1), or 0 when no item ever had that group. */
  groupCode(name: string): number {
    return this.groupIndex.get(name) ?? 0;
  }

  /** Live ids in the group with this code. */
  liveInGroup(code: number): number {
    return code < this.groupLive.length ? this.groupLive[code] : 0;
  }

  groupCount(): number {
    return this.groupNames.length;
  }

  groupName(code: number): string | undefined {
    return code === 0 ? undefined : this.groupNames[code - 1];
  }

  idOf(iid: number): string {
    const s = this.starts[iid];
    const e = this.starts[iid + 1];
    const a = this.arena;
    // Short ASCII ids (the common case) by concatenation: no subarray or apply per call.
    if (e - s <= 24) {
      let out = '';
      for (let i = s; i < e; i++) {
        const c = a[i];
        if (c >= 0x80) return Buffer.from(a.buffer, a.byteOffset + s, e - s).toString('utf8');
        out += String.fromCharCode(c);
      }
      return out;
    }
    for (let i = s; i < e; i++) if (a[i] >= 0x80) return Buffer.from(a.buffer, a.byteOffset + s, e - s).toString('utf8');
    return String.fromCharCode.apply(null, a.subarray(s, e) as unknown as number[]);
  }

  memoryBytes(): number {
    let groupChars = 0;
    for (const g of this.groupNames) groupChars += 2 * g.length + 64;
    return this.arena.byteLength + this.starts.byteLength + this.slots.byteLength + this.groupOf.byteLength + this.tomb.byteLength + this.groupLive.byteLength + this.scratch.byteLength + groupChars;
  }

  save(path: string): void {
    const groups = Buffer.from(JSON.stringify(this.groupNames), 'utf8');
    const header = new Uint32Array([this.count, this.arenaLen, this.groupOf instanceof Uint32Array ? 32 : 16]);
    writeSections(path, [
      header,
      this.arena.subarray(0, this.arenaLen),
      this.starts.subarray(0, this.count + 1),
      this.groupOf.subarray(0, this.count),
      this.tomb.subarray(0, (this.count + 7) >> 3),
      groups,
    ]);
  }

  static load(path: string): IdTable {
    const s = readSections(path);
    const [count, arenaLen, groupBits] = Array.from(u32(s[0]));
    const t = new IdTable(count + 16, arenaLen + 64);
    t.ensureCapacity(count + 1, arenaLen);
    t.arena.set(u8(s[1]));
    t.arenaLen = arenaLen;
    t.starts.set(u32(s[2]));
    t.count = count;
    if (groupBits === 32) t.groupOf = new Uint32Array(t.groupOf.length);
    t.groupOf.set(groupBits === 32 ? u32(s[3]) : new Uint16Array(s[3].buffer, s[3].byteOffset, s[3].byteLength / 2));
    t.tomb.set(u8(s[4]));
    const names = JSON.parse(s[5].toString('utf8')) as string[];
    names.forEach((n, i) => {
      t.groupNames.push(n);
      t.groupIndex.set(n, i + 1);
    });
    for (let iid = 0; iid < count; iid++) {
      if (t.isDead(iid)) continue;
      if (t.live + 1 > t.slots.length * MAX_LOAD) t.rehash(t.slots.length * 2);
      t.insertSlot(iid, fnv(t.arena, t.starts[iid], t.starts[iid + 1] - t.starts[iid]));
      t.live++;
      t.countGroup(t.groupOf[iid]);
    }
    return t;
  }

  private countGroup(code: number): void {
    if (code >= this.groupLive.length) {
      const g = new Uint32Array(Math.max(code + 1, this.groupLive.length * 2));
      g.set(this.groupLive);
      this.groupLive = g;
    }
    this.groupLive[code]++;
  }

  private setGroup(iid: number, group: string | undefined): void {
    if (group === undefined) {
      this.groupOf[iid] = 0;
      this.countGroup(0);
      return;
    }
    let code = this.groupIndex.get(group);
    if (code === undefined) {
      this.groupNames.push(group);
      code = this.groupNames.length;
      this.groupIndex.set(group, code);
      if (code > 0xffff && this.groupOf instanceof Uint16Array) {
        const wide = new Uint32Array(this.groupOf.length);
        wide.set(this.groupOf);
        this.groupOf = wide;
      }
    }
    this.groupOf[iid] = code;
    this.countGroup(code);
  }

  /** UTF-8 of id into scratch; returns the byte length. */
  private encode(id: string): number {
    const n = id.length;
    if (this.scratch.length < n * 3) this.scratch = new Uint8Array(n * 3 + 16);
    const s = this.scratch;
    for (let i = 0; i < n; i++) {
      const c = id.charCodeAt(i);
      if (c >= 0x80) return Buffer.from(s.buffer, s.byteOffset, s.byteLength).write(id, 0, 'utf8');
      s[i] = c;
    }
    return n;
  }

  private equals(iid: number, len: number): boolean {
    const s = this.starts[iid];
    if (this.starts[iid + 1] - s !== len) return false;
    const a = this.arena;
    const b = this.scratch;
    for (let i = 0; i < len; i++) if (a[s + i] !== b[i]) return false;
    return true;
  }

  private insertSlot(iid: number, hash: number): void {
    let i = hash & this.mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & this.mask;
    this.slots[i] = iid;
  }

  /** Backward-shift deletion keeps every probe chain unbroken without tombstone slots. */
  private deleteSlot(hole: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hole;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const v = slots[j];
      if (v === EMPTY) break;
      const home = fnv(this.arena, this.starts[v], this.starts[v + 1] - this.starts[v]) & mask;
      // Move v into the hole unless its home lies cyclically in (i, j].
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!inRange) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = EMPTY;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i++) {
      const v = old[i];
      if (v !== EMPTY) this.insertSlot(v, fnv(this.arena, this.starts[v], this.starts[v + 1] - this.starts[v]));
    }
  }

  private ensureCapacity(ids: number, extraBytes: number): void {
    if (this.arenaLen + extraBytes > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.arenaLen + extraBytes));
      a.set(this.arena.subarray(0, this.arenaLen));
      this.arena = a;
    }
    if (ids + 1 > this.starts.length) {
      const cap = Math.max(ids + 1, this.starts.length * 2);
      const st = new Uint32Array(cap);
      st.set(this.starts);
      this.starts = st;
      const g = this.groupOf instanceof Uint32Array ? new Uint32Array(cap) : new Uint16Array(cap);
      g.set(this.groupOf);
      this.groupOf = g;
      const t = new Uint8Array((cap + 7) >> 3);
      t.set(this.tomb);
      this.tomb = t;
    }
  }
}

function fnv(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= b[off + i];
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche: sequential numeric ids differ only in the last bytes.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function nextPow2(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}
