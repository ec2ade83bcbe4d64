import type { SearchHit } from '../vector-index.port';
import { MaxHeap } from './heaps';
import { fitsU8 } from './records';
import type { SpannCore } from './spann.core';

/**
 * Probed lists closer than this in the file are fetched with one read (the bytes in between are
 * read and ignored): a read costs ~2 us of syscall, 8 KiB of extra copy ~1 us. Lists are written
 * in hierarchical-clustering leaf order, so nearby centroids tend to be nearby in the file.
 */
const COALESCE_GAP = 8192;
/** Largest coalesced read. */
const MAX_SPAN = 1 << 16;
/**
 * Bytes read per reader call (the lists of a query are fetched in batches of up to this much;
 * bounds the read buffer, which is resident SIMD memory, except for a single bigger list).
 */
const BATCH_BYTES = 1 << 18;

/**
 * Work done by one search: lists and records read, candidates (records under the distance cut-off
 * that passed de-duplication, tombstones and filters), read calls and bytes.
 */
export interface ScanStats {
  lists: number;
  records: number;
  scored: number;
  /** Ranges read (coalesced lists). */
  reads: number;
  /** Reader calls (each reads a batch of ranges at once). */
  batches: number;
  bytes: number;
}

/**
 * The read-and-score half of a SPANN query: per-query generation stamps (de-duplication of
 * replicas, excluded ids, lists already read) over typed arrays, coalesced positional reads,
 * one SIMD kernel call per list, and the top-k heap. No per-record allocation.
 */
export class PostingScanner {
  readonly stats: ScanStats = { lists: 0, records: 0, scored: 0, reads: 0, batches: 0, bytes: 0 };
  private stamp = new Uint32Array(0);
  private listStamp = new Uint32Array(0);
  private gen = 0;
  private readonly heap = new MaxHeap(64);
  private order = new Uint32Array(64);
  private orderOff = new Float64Array(64);
  private outD = new Float64Array(64);
  private outN = new Uint32Array(64);
  private spanPos = new Float64Array(64);
  private spanLen = new Uint32Array(64);
  private spanDst = new Uint32Array(64);
  private listDst = new Uint32Array(64);
  /** In-place scan output: (internal id, distance) per candidate. */
  private nId = new Uint32Array(256);
  private nD = new Float32Array(256);

  /** The stored-form query in SIMD memory: f32 at qPtr, and as i16 at q16Ptr when it is 0..255 integers. */
  private readonly qPtr: number;
  private readonly q16Ptr: number;
  /** The query is 0..255 integers and the store is u8: the exact integer kernels apply. */
  private intQuery = false;
  private q16 = new Int16Array(0);
  private qf = new Float32Array(0);

  constructor(private readonly core: SpannCore) {
    const dim = core.space.dim;
    this.qPtr = core.sm.alloc(dim * 4);
    this.q16Ptr = core.sm.alloc(dim * 2);
    this.ensureCapacity();
  }

  /** Sets the query (stored form) the next probes score against. */
  setQuery(q: Float32Array): void {
    const sm = this.core.sm;
    const dim = this.core.space.dim;
    if (this.qf.buffer !== sm.buffer || this.qf.length === 0) this.qf = new Float32Array(sm.buffer, this.qPtr, dim);
    this.qf.set(q.length === dim ? q : q.subarray(0, dim));
    this.intQuery = this.core.store.valueType === 'u8' && fitsU8(q, 0, dim);
    if (this.intQuery) {
      if (this.q16.buffer !== sm.buffer || this.q16.length === 0) this.q16 = new Int16Array(sm.buffer, this.q16Ptr, dim);
      const q16 = this.q16;
      for (let t = 0; t < dim; t++) q16[t] = q[t]; // a loop: set() across element types is ~4x slower
    }
  }

  /** Byte offset of the query as i16 when it is 0..255 integers against a u8 store (the centroid search uses it too), else 0. */
  int16Query(): number {
    return this.intQuery ? this.q16Ptr : 0;
  }

  /** Starts a query: new generation, empty heap, zeroed stats. */
  begin(): void {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.listStamp.fill(0);
      this.gen = 1;
    }
    this.heap.clear();
    const s = this.stats;
    s.lists = s.records = s.scored = s.reads = s.batches = s.bytes = 0;
  }

  /** Marks an internal id as seen (excluded); returns false if it already was. */
  exclude(iid: number): boolean {
    if (this.stamp[iid] === this.gen) return false;
    this.stamp[iid] = this.gen;
    return true;
  }

  listSeen(list: number): boolean {
    return this.listStamp[list] === this.gen;
  }

  markList(list: number): void {
    this.listStamp[list] = this.gen;
  }

  found(): number {
    return this.heap.size;
  }

  /** Stamp arrays cover every internal id and list id (grown x2, so amortised). */
  ensureCapacity(): void {
    const ids = this.core.ids.count;
    if (this.stamp.length < ids) {
      const s = new Uint32Array(Math.max(ids, this.stamp.length * 2, 1024));
      s.set(this.stamp);
      this.stamp = s;
    }
    const lists = this.core.store.listCount;
    if (this.listStamp.length < lists) {
      const s = new Uint32Array(Math.max(lists, this.listStamp.length * 2, 64));
      s.set(this.listStamp);
      this.listStamp = s;
    }
  }

  /** Scans every live list not yet read in this query (exhaustive pass). */
  scanAll(k: number, groupMask: Uint8Array | null): void {
    const graph = this.core.graph;
    const lists = new Uint32Array(this.core.store.listCount);
    let n = 0;
    for (let l = 0; l < lists.length; l++) {
      if (this.listStamp[l] === this.gen || !graph.hasLabel(l)) continue;
      this.listStamp[l] = this.gen;
      lists[n++] = l;
    }
    this.probeLists(lists, n, k, groupMask);
  }

  /**
   * Reads and scores lists[0..n): sorted by file offset, neighbours within COALESCE_GAP merged
   * into one range (only adjacent ones for the mmap reader, where a gap costs a copy and merging
   * saves nothing), the ranges read in batches of BATCH_BYTES by one reader call each (see
   * posting-io.ts), then each list's records scored by one kernel call.
   */
  probeLists(lists: Uint32Array, n: number, k: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const rb = store.recBytes;
    if (this.order.length < n) {
      this.order = new Uint32Array(n * 2);
      this.orderOff = new Float64Array(n * 2);
    }
    const order = this.order;
    const off = this.orderOff;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const l = lists[i];
      if (store.length(l) === 0) continue;
      // Insertion sort by offset (n is the probe count, small); sort() for big fallbacks.
      const o = store.offset(l);
      if (n > 64) {
        order[m] = l;
        off[m++] = o;
        continue;
      }
      let j = m++;
      while (j > 0 && off[j - 1] > o) {
        order[j] = order[j - 1];
        off[j] = off[j - 1];
        j--;
      }
      order[j] = l;
      off[j] = o;
    }
    if (n > 64) {
      const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => off[a] - off[b]);
      const o2 = idx.map((i) => order[i]);
      for (let i = 0; i < m; i++) {
        order[i] = o2[i];
        off[i] = store.offset(o2[i]);
      }
    }
    // In place: the lists scored straight out of the mapped page cache by the native kernel
    // (l2 on f32 records, or u8 records with an integer query), in file order.
    const isL2 = this.core.space.metric === 'l2';
    const h = isL2 && (store.valueType === 'f32' || this.intQuery) ? store.reader.inPlace() : 0;
    if (h !== 0) {
      for (let t = 0; t < m; t++) this.scanInPlace(order[t], k, groupMask);
      this.stats.batches++;
      this.stats.reads += m;
      return;
    }
    // Batches of spans (a span: neighbouring lists merged into one range) read by one reader
    // call each, then every list of the batch scored where it landed in the read buffer.
    const gap = store.ioMode === 'mmap' ? 0 : COALESCE_GAP;
    if (this.spanPos.length < m) {
      this.spanPos = new Float64Array(m * 2);
      this.spanLen = new Uint32Array(m * 2);
      this.spanDst = new Uint32Array(m * 2);
      this.listDst = new Uint32Array(m * 2);
    }
    const sPos = this.spanPos;
    const sLen = this.spanLen;
    const sDst = this.spanDst;
    const lDst = this.listDst;
    let i = 0;
    while (i < m) {
      const first = i;
      let spans = 0;
      let used = 0;
      while (i < m) {
        const start = off[i];
        let end = start + store.length(order[i]) * rb;
        let j = i + 1;
        while (j < m) {
          const e = off[j] + store.length(order[j]) * rb;
          if (off[j] - end > gap || e - start > MAX_SPAN) break;
          if (e > end) end = e;
          j++;
        }
        const bytes = end - start;
        if (spans > 0 && used + bytes > BATCH_BYTES) break;
        sPos[spans] = start;
        sLen[spans] = bytes;
        sDst[spans] = used;
        for (let t = i; t < j; t++) lDst[t] = used + (off[t] - start);
        used += (bytes + 15) & ~15; // 16-byte aligned spans: record ids stay u32-aligned
        spans++;
        i = j;
      }
      store.ensureBuffer(used);
      store.readSpans(sPos, sLen, sDst, spans);
      this.stats.batches++;
      this.stats.reads += spans;
      for (let s = 0; s < spans; s++) this.stats.bytes += sLen[s];
      for (let t = first; t < i; t++) this.scanRecords(order[t], store.bufPtr + lDst[t], k, groupMask);
    }
  }

  /** Drains the top-k heap into hits, nearest first. */
  collect(): SearchHit[] {
    if (this.outD.length < this.heap.size) {
      this.outD = new Float64Array(this.heap.d.length);
      this.outN = new Uint32Array(this.heap.d.length);
    }
    const count = this.heap.drainAscending(this.outD, this.outN);
    const hits: SearchHit[] = new Array(count);
    for (let i = 0; i < count; i++) hits[i] = { id: this.core.ids.idOf(this.outN[i]), distance: this.outD[i] };
    return hits;
  }

  memoryBytes(): number {
    return (
      this.stamp.byteLength +
      this.listStamp.byteLength +
      this.heap.d.byteLength +
      this.heap.n.byteLength +
      this.order.byteLength +
      this.orderOff.byteLength +
      this.outD.byteLength +
      this.outN.byteLength +
      this.spanPos.byteLength +
      this.spanLen.byteLength +
      this.spanDst.byteLength +
      this.listDst.byteLength +
      this.nId.byteLength +
      this.nD.byteLength
    );
  }

  /**
   * Scores one list whose records start at byte recPtr of the read buffer. The kernel gets the
   * current k-th distance as a cut-off and returns only the rows under it (squared L2 abandons a
   * row early once past it), so the JS loop (take) sees a handful of candidates per list instead
   * of every record; stamps, tombstones and filters are checked for those candidates only.
   * While the heap is not yet full (the first list) there is no cut-off: for l2 the kernel then
   * returns the list's 2k nearest rows instead of all of them, and the rest of the list is scanned
   * only if those could not settle the heap.
   */
  private scanRecords(list: number, recPtr: number, k: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const count = store.length(list);
    const isL2 = this.core.space.metric === 'l2';
    const u8 = store.valueType === 'u8';
    const kern = this.core.sm.k;
    const dim = this.core.space.dim;
    const heap = this.heap;
    const rb = store.recBytes;
    const base = recPtr + 4;
    let scored = 0;
    if (isL2) {
      if (heap.size < k && count > 2 * k && (!u8 || this.intQuery)) {
        const want = 2 * k;
        const n = u8 ? kern.topk_l2_u8i(this.q16Ptr, base, count, rb, dim, want, store.idxPtr, store.distPtr) : kern.topk_l2(this.qPtr, base, count, rb, dim, want, store.idxPtr, store.distPtr);
        scored += this.take(n, recPtr, k, groupMask, true);
        // Rows past the 2k-th are at least as far as it: done if the heap is full and no farther.
        const last = store.vecs[(store.distPtr >> 2) + n - 1];
        if (heap.size >= k && heap.d[0] <= last) {
          this.count(count, scored);
          return;
        }
      }
      const thr = heap.size >= k ? heap.d[0] : Infinity;
      let n: number;
      if (!u8) n = kern.l2_rows_lt(this.qPtr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      else if (this.intQuery) n = kern.l2_rows_u8i_lt(this.q16Ptr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      else n = kern.l2_rows_u8_lt(this.qPtr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      scored += this.take(n, recPtr, k, groupMask, true);
    } else {
      // d = 1 - dot: the cut-off is on the dot product, widened by a rounding margin (take()
      // re-checks every candidate against the heap in double precision).
      const t = heap.size >= k ? 1 - heap.d[0] : -Infinity;
      const thr = t - 1e-6 * Math.max(1, Math.abs(t));
      let n: number;
      if (!u8) n = kern.dot_rows_gt(this.qPtr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      else if (this.intQuery) n = kern.dot_rows_u8i_gt(this.q16Ptr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      else n = kern.dot_rows_u8_gt(this.qPtr, base, count, rb, dim, thr, store.idxPtr, store.distPtr);
      scored += this.take(n, recPtr, k, groupMask, false);
    }
    this.count(count, scored);
  }

  /**
   * scanRecords for the in-place reader: the native kernel reads the list's records from the
   * mapping and returns (internal id, distance) pairs under the cut-off (the first list: its 2k
   * nearest, as in scanRecords).
   */
  private scanInPlace(list: number, k: number, groupMask: Uint8Array | null): void {
    const store = this.core.store;
    const count = store.length(list);
    const dim = this.core.space.dim;
    const rb = store.recBytes;
    const u8 = store.valueType === 'u8';
    const reader = store.reader;
    const heap = this.heap;
    if (this.nId.length < count) {
      this.nId = new Uint32Array(count * 2);
      this.nD = new Float32Array(count * 2);
    }
    this.stats.bytes += count * rb;
    const sm = this.core.sm;
    if (this.qf.buffer !== sm.buffer) this.qf = new Float32Array(sm.buffer, this.qPtr, dim);
    if (u8 && this.q16.buffer !== sm.buffer) this.q16 = new Int16Array(sm.buffer, this.q16Ptr, dim);
    const pos = store.offset(list);
    let scored = 0;
    if (heap.size < k && count > 2 * k) {
      const n = reader.scan(pos, count, rb, dim, u8, this.qf, this.q16, Infinity, 2 * k, this.nId, this.nD);
      scored += this.takeIds(n, k, groupMask);
      if (heap.size >= k && heap.d[0] <= this.nD[n - 1]) {
        this.count(count, scored);
        return;
      }
    }
    const thr = heap.size >= k ? heap.d[0] : Infinity;
    const n = reader.scan(pos, count, rb, dim, u8, this.qf, this.q16, thr, 0, this.nId, this.nD);
    scored += this.takeIds(n, k, groupMask);
    this.count(count, scored);
  }

  /** take() for (internal id, squared L2) pairs in nId / nD. */
  private takeIds(n: number, k: number, groupMask: Uint8Array | null): number {
    const ids = this.nId;
    const dist = this.nD;
    const stamp = this.stamp;
    const gen = this.gen;
    const tomb = this.core.ids.tombBits();
    const groups = this.core.ids.groupCodes();
    const heap = this.heap;
    let scored = 0;
    for (let j = 0; j < n; j++) {
      const iid = ids[j];
      if (stamp[iid] === gen) continue;
      stamp[iid] = gen;
      if ((tomb[iid >> 3] & (1 << (iid & 7))) !== 0) continue;
      if (groupMask !== null && groupMask[groups[iid]] !== 1) continue;
      const d = dist[j];
      if (heap.size < k || d < heap.d[0]) heap.offer(d, iid, k);
      scored++;
    }
    return scored;
  }

  /**
   * Offers the kernel's n candidates (row index at idxPtr, distance or dot at distPtr) of the list
   * at recPtr to the heap, skipping ids already seen in this query, tombstones and filtered
   * groups. Returns how many were offered.
   */
  private take(n: number, recPtr: number, k: number, groupMask: Uint8Array | null, isL2: boolean): number {
    const store = this.core.store;
    const rw = store.recWords;
    const u32 = store.ids;
    const dist = store.vecs;
    const dBase = store.distPtr >> 2;
    const iBase = store.idxPtr >> 2;
    const rBase = recPtr >> 2;
    const stamp = this.stamp;
    const gen = this.gen;
    const tomb = this.core.ids.tombBits();
    const groups = this.core.ids.groupCodes();
    const heap = this.heap;
    let scored = 0;
    for (let j = 0; j < n; j++) {
      const iid = u32[rBase + u32[iBase + j] * rw];
      if (stamp[iid] === gen) continue;
      stamp[iid] = gen;
      if ((tomb[iid >> 3] & (1 << (iid & 7))) !== 0) continue;
      if (groupMask !== null && groupMask[groups[iid]] !== 1) continue;
      const d = isL2 ? dist[dBase + j] : 1 - dist[dBase + j];
      if (heap.size < k || d < heap.d[0]) heap.offer(d, iid, k);
      scored++;
    }
    return scored;
  }

  private count(records: number, scored: number): void {
    this.stats.lists++;
    this.stats.records += records;
    this.stats.scored += scored;
  }
}
