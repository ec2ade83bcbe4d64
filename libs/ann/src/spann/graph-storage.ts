import { f32, readSections, u32, u8, writeSections } from './binfile';
import type { SimdMemory } from './simd-memory';
import { l2sq } from './vector-math';

export interface GraphOptions {
  m: number;
  efConstruction: number;
  seed: number;
}

export const NONE = 0xffffffff;

/**
 * Storage of the centroid HNSW (see CentroidGraph): flat typed arrays per node (level, level-0
 * links and degree, label, retired flag), upper-level links for the few nodes that have them,
 * label -> node map, and the vectors in SIMD memory. Growth, views and persistence live here;
 * the search and construction algorithms in CentroidGraph.
 */
export abstract class GraphStorage {
  readonly m: number;
  readonly m0: number;
  readonly efConstruction: number;
  protected cap: number;
  count = 0;
  protected readonly sm: SimdMemory;
  /** Byte offset of node 0's vector in SIMD memory; node i at vecPtr + i * dim * 4. */
  protected vecPtr: number;
  /** Scratch in SIMD memory: the query, neighbour ids to score, their distances. */
  protected readonly qPtr: number;
  protected readonly idsPtr: number;
  protected readonly distPtr: number;
  protected f: Float32Array = new Float32Array(0);
  protected u: Uint32Array = new Uint32Array(0);
  protected levels: Uint8Array;
  /**
   * Level-0 links (m0 per node), degrees and visit generations live in SIMD memory, where the
   * layer-0 search kernel (hnsw_l0) reads them; these are views, re-derived by views() after the
   * memory grew or the blocks moved. Candidate and result heaps of that search are there too.
   */
  protected links0: Uint32Array = new Uint32Array(0);
  protected deg0: Uint8Array = new Uint8Array(0);
  protected l0Ptr: number;
  protected degPtr: number;
  protected visPtr: number;
  protected candDPtr: number;
  protected candNPtr: number;
  protected resDPtr = 0;
  protected resNPtr = 0;
  protected resCap = 0;
  private stale = true;
  /** Per node with level > 0: level l (1-based) at [(l-1)*(m+1)]: degree, then m ids. */
  protected upper: Array<Uint32Array | null> = [];
  protected nodeLabel: Uint32Array;
  protected retired: Uint8Array;
  protected labelNode: Uint32Array;
  protected visited: Uint32Array = new Uint32Array(0);
  protected visitGen = 0;
  protected entry = NONE;
  protected maxLevel = -1;
  protected retiredCount = 0;

  constructor(
    readonly dim: number,
    opts: GraphOptions,
    sm: SimdMemory,
    initialCapacity: number,
  ) {
    this.sm = sm;
    this.m = Math.max(2, Math.min(127, Math.round(opts.m)));
    this.m0 = this.m * 2;
    this.efConstruction = Math.max(this.m, Math.round(opts.efConstruction));
    this.cap = Math.max(8, initialCapacity);
    this.vecPtr = sm.alloc(this.cap * dim * 4);
    const scratch = Math.max(this.m0 + 1, this.efConstruction + 1);
    this.qPtr = sm.alloc(dim * 4);
    this.idsPtr = sm.alloc(scratch * 4);
    this.distPtr = sm.alloc(scratch * 4);
    this.levels = new Uint8Array(this.cap);
    this.l0Ptr = sm.alloc(this.cap * this.m0 * 4);
    this.degPtr = sm.alloc(this.cap);
    this.visPtr = sm.alloc(this.cap * 4);
    this.candDPtr = sm.alloc(this.cap * 4);
    this.candNPtr = sm.alloc(this.cap * 4);
    this.nodeLabel = new Uint32Array(this.cap);
    this.retired = new Uint8Array(this.cap);
    this.views();
    this.visited.fill(0); // allocator blocks are not zeroed; generations start at 1
    this.labelNode = new Uint32Array(this.cap).fill(NONE);
  }

  /** Number of live (non-retired) centroids. */
  size(): number {
    return this.count - this.retiredCount;
  }

  /** Offset of the centroid of label in vectorData() (valid until the next insert). */
  vectorOffset(label: number): number {
    const node = this.labelNode[label];
    if (node === undefined || node === NONE) throw new Error(`CentroidGraph: no centroid for list ${label}`);
    return (this.vecPtr >> 2) + node * this.dim;
  }

  /** A view of the SIMD memory (valid until the next insert). */
  vectorData(): Float32Array {
    this.views();
    return this.f;
  }

  /** Drops a list's centroid from results (its node keeps routing). */
  retire(label: number): void {
    const node = label < this.labelNode.length ? this.labelNode[label] : NONE;
    if (node === NONE) return;
    this.retired[node] = 1;
    this.retiredCount++;
    this.labelNode[label] = NONE;
  }

  hasLabel(label: number): boolean {
    return label < this.labelNode.length && this.labelNode[label] !== NONE;
  }

  memoryBytes(): number {
    let upperBytes = 0;
    for (let i = 0; i < this.count; i++) {
      const u = this.upper[i];
      if (u) upperBytes += u.byteLength + 16;
    }
    // Vectors, level-0 links, degrees, visit marks, heaps and scratch are in SIMD memory,
    // counted once by the index.
    return this.levels.byteLength + this.nodeLabel.byteLength + this.retired.byteLength + this.labelNode.byteLength + this.upper.length * 8 + upperBytes;
  }

  save(path: string): void {
    this.views();
    const n = this.count;
    const header = new Uint32Array([this.dim, this.m, this.efConstruction, n, this.entry, this.maxLevel + 1, this.labelNode.length, this.retiredCount]);
    let upperLen = 0;
    for (let i = 0; i < n; i++) upperLen += this.upper[i]?.length ?? 0;
    const upperFlat = new Uint32Array(upperLen);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const u = this.upper[i];
      if (u) {
        upperFlat.set(u, p);
        p += u.length;
      }
    }
    writeSections(path, [
      header,
      this.vectorData().subarray(this.vecPtr >> 2, (this.vecPtr >> 2) + n * this.dim),
      this.levels.subarray(0, n),
      this.links0.subarray(0, n * this.m0),
      this.deg0.subarray(0, n),
      this.nodeLabel.subarray(0, n),
      this.retired.subarray(0, n),
      this.labelNode,
      upperFlat,
    ]);
  }

  /** Restores a saved graph into this freshly constructed, empty storage (sized for it). */
  protected restore(s: Buffer[]): void {
    const [, m, , n, entry, maxLevelPlus1, labelCap, retiredCount] = Array.from(u32(s[0]));
    this.count = n;
    this.vectorData().set(f32(s[1]), this.vecPtr >> 2);
    this.views();
    this.levels.set(u8(s[2]));
    this.links0.set(u32(s[3]));
    this.deg0.set(u8(s[4]));
    this.nodeLabel.set(u32(s[5]));
    this.retired.set(u8(s[6]));
    this.labelNode = new Uint32Array(labelCap);
    this.labelNode.set(u32(s[7]));
    const upperFlat = u32(s[8]);
    let p = 0;
    this.upper = new Array(n).fill(null);
    for (let i = 0; i < n; i++) {
      const lv = this.levels[i];
      if (lv > 0) {
        const len = lv * (m + 1);
        this.upper[i] = upperFlat.slice(p, p + len);
        p += len;
      }
    }
    this.entry = entry;
    this.maxLevel = maxLevelPlus1 - 1;
    this.retiredCount = retiredCount;
  }

  /** Header of a saved graph: [dim, m, efConstruction, nodes, ...] and its sections. */
  protected static readFile(path: string): { dim: number; m: number; efc: number; n: number; sections: Buffer[] } {
    const sections = readSections(path);
    const [dim, m, efc, n] = Array.from(u32(sections[0]));
    return { dim, m, efc, n, sections };
  }

  /** Distance from the vector at byte offset qPtr to node. */
  protected dist1(qPtr: number, node: number): number {
    return l2sq(this.f, qPtr >> 2, this.f, (this.vecPtr >> 2) + node * this.dim, this.dim);
  }

  /** Scores n node ids already written at idsPtr against qPtr; distances land at distPtr. */
  protected scoreIds(qPtr: number, n: number): void {
    this.sm.k.l2_ids(qPtr, this.vecPtr, this.idsPtr, n, this.dim, this.distPtr);
  }

  protected nextVisitGen(): number {
    this.visitGen = (this.visitGen + 1) >>> 0;
    if (this.visitGen === 0) {
      this.visited.fill(0);
      this.visitGen = 1;
    }
    return this.visitGen;
  }

  /** Re-derives the SIMD memory views after the memory grew (growing detaches them) or a block moved. */
  protected views(): void {
    if (this.stale || this.f.buffer !== this.sm.buffer || this.f.length === 0) {
      const buf = this.sm.buffer;
      this.f = this.sm.f32();
      this.u = this.sm.u32();
      this.links0 = new Uint32Array(buf, this.l0Ptr, this.cap * this.m0);
      this.deg0 = new Uint8Array(buf, this.degPtr, this.cap);
      this.visited = new Uint32Array(buf, this.visPtr, this.cap);
      this.stale = false;
    }
  }

  /** Room for ef + 1 results in the layer-0 search's result heap (call views() after). */
  protected ensureResults(ef: number): void {
    if (ef + 1 <= this.resCap) return;
    if (this.resDPtr !== 0) {
      this.sm.free(this.resDPtr);
      this.sm.free(this.resNPtr);
    }
    this.resCap = Math.max(ef + 1, 2 * this.resCap, 64);
    this.resDPtr = this.sm.alloc(this.resCap * 4);
    this.resNPtr = this.sm.alloc(this.resCap * 4);
    this.stale = true;
  }

  protected ensureLabel(label: number): void {
    if (label < this.labelNode.length) return;
    let n = this.labelNode.length * 2;
    while (n <= label) n *= 2;
    const ln = new Uint32Array(n).fill(NONE);
    ln.set(this.labelNode);
    this.labelNode = ln;
  }

  /** x1.25 (the vectors are resized in SIMD memory, in place when they sit at its top). */
  protected grow(): void {
    const cap = Math.ceil(this.cap * 1.25) + 8;
    const grow = <T extends Uint32Array | Uint8Array>(a: T, mk: (n: number) => T, per: number): T => {
      const b = mk(cap * per);
      b.set(a);
      return b;
    };
    this.vecPtr = this.sm.realloc(this.vecPtr, cap * this.dim * 4);
    this.l0Ptr = this.sm.realloc(this.l0Ptr, cap * this.m0 * 4);
    this.degPtr = this.sm.realloc(this.degPtr, cap);
    this.visPtr = this.sm.realloc(this.visPtr, cap * 4);
    this.candDPtr = this.sm.realloc(this.candDPtr, cap * 4);
    this.candNPtr = this.sm.realloc(this.candNPtr, cap * 4);
    this.levels = grow(this.levels, (n) => new Uint8Array(n), 1);
    this.nodeLabel = grow(this.nodeLabel, (n) => new Uint32Array(n), 1);
    this.retired = grow(this.retired, (n) => new Uint8Array(n), 1);
    this.cap = cap;
    this.stale = true;
    this.views();
    this.visited.fill(0);
    this.visitGen = 0;
  }
}
