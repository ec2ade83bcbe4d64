import type { SimdMemory } from './simd-memory';

/**
 * Exact nearest-centroid search by one kernel pass over all centroid vectors (used while the
 * centroid count is small, see CentroidGraph): the kernel keeps the top k itself, with the k-th
 * distance as early-abandon cut-off, so nothing per centroid happens in JS.
 *
 * For a u8 index (l2), an optional copy of the centroids rounded to bytes lets a query of 0..255
 * integers be routed with the exact integer kernel (~2.5x faster than the f32 pass). Rounding a
 * centroid moves it by at most 0.5 per coordinate: it only affects which lists are probed, never
 * the distances of results (those come from the posting records).
 */
export class FlatRouter {
  private outIdx = 0;
  private outD = 0;
  private outCap = 0;
  private u8Ptr = 0;
  private u8Cap = 0;
  /** Whether the u8 copy is kept (set by enableU8). */
  u8 = false;

  constructor(
    private readonly sm: SimdMemory,
    private readonly dim: number,
  ) {}

  /** Starts keeping the u8 copy of rows 0..count (f32 in SIMD memory from word offset vecWord). */
  enableU8(vecWord: number, count: number): void {
    this.u8 = true;
    this.ensureRows(count);
    const f = this.sm.f32();
    for (let i = 0; i < count; i++) this.setRow(i, f, vecWord + i * this.dim);
  }

  disableU8(): void {
    if (this.u8Ptr !== 0) this.sm.free(this.u8Ptr);
    this.u8 = false;
    this.u8Ptr = 0;
    this.u8Cap = 0;
  }

  /** Room for `rows` centroids in the u8 copy. */
  ensureRows(rows: number): void {
    if (!this.u8 || rows <= this.u8Cap) return;
    const cap = Math.max(rows, Math.ceil(this.u8Cap * 1.25) + 8);
    this.u8Ptr = this.u8Ptr === 0 ? this.sm.alloc(cap * this.dim) : this.sm.realloc(this.u8Ptr, cap * this.dim);
    this.u8Cap = cap;
  }

  /** Writes centroid `row` (f32 at src[off..]) into the u8 copy, rounded and clamped to 0..255. */
  setRow(row: number, src: Float32Array, off: number): void {
    if (!this.u8) return;
    this.ensureRows(row + 1);
    const b = new Uint8Array(this.sm.buffer, this.u8Ptr + row * this.dim, this.dim);
    const f = src.length === 0 ? this.sm.f32() : src; // a SIMD-memory view detached by the growth above
    for (let t = 0; t < this.dim; t++) b[t] = Math.min(255, Math.max(0, Math.round(f[off + t])));
  }

  /**
   * The k nearest of `count` centroids (f32 rows at vecPtr) to the query (f32 at qPtr; as i16 at
   * q16Ptr when it is 0..255 integers, else 0). Results at idxWord() / distWord(), i < returned.
   */
  search(qPtr: number, q16Ptr: number, vecPtr: number, count: number, k: number): number {
    if (this.outCap < k) {
      if (this.outIdx !== 0) {
        this.sm.free(this.outIdx);
        this.sm.free(this.outD);
      }
      this.outCap = Math.max(k, 64);
      this.outIdx = this.sm.alloc(this.outCap * 4);
      this.outD = this.sm.alloc(this.outCap * 4);
    }
    const dim = this.dim;
    if (this.u8 && q16Ptr !== 0) return this.sm.k.topk_l2_u8i(q16Ptr, this.u8Ptr, count, dim, dim, k, this.outIdx, this.outD);
    return this.sm.k.topk_l2(qPtr, vecPtr, count, dim * 4, dim, k, this.outIdx, this.outD);
  }

  /** Word offsets of the last search's rows (u32 view) and distances (f32 view). */
  idxWord(): number {
    return this.outIdx >> 2;
  }

  distWord(): number {
    return this.outD >> 2;
  }
}
