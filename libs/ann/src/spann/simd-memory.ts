/**
 * WebAssembly SIMD distance kernels and the linear memory they work on (see simd-kernels.wat,
 * compiled below). One instance per index: the centroid vectors, the posting read buffer and
 * the query live in its memory so that a kernel call scores a whole posting list (or a node's
 * neighbours) without copies. f32x4 kernels are ~10x faster than scalar JS loops.
 *
 * Memory is handed out by a first-fit allocator (16-byte aligned, coalescing free list) and
 * grows in 64 KiB pages; it never shrinks. Growing detaches every typed-array view, so holders
 * re-derive views through f32()/u32()/bytes() after any alloc (check `buffer`).
 */
const KERNELS_WASM =
  'AGFzbQEAAAABGQNgBn9/f39/fwBgBH9/f38AYAV/f39/fwADBwYAAAABAQIFAwEAAQcwBQNtZW0CAAdsMl9yb3dzAAAIZG90X3Jvd3MAAQZsMl9pZHMAAghhZGRfcm93cwAFCsQIBq4CAwZ/A3sCfSABIQcCQANAIAYgAk8NAf0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ0gACEIIAchCSAHIARBeHFBAnRqIQogByAEQQJ0aiELAkADQCAJIApPDQEgCP0ABAAgCf0ABAD95QEhDiAMIA4gDv3mAf3kASEMIAj9AAQQIAn9AAQQ/eUBIQ4gDSAOIA795gH95AEhDSAIQSBqIQggCUEgaiEJDAALCyAMIA395AEhDCAM/R8AIAz9HwGSIAz9HwIgDP0fA5KSIQ8CQANAIAkgC08NASAIKgIAIAkqAgCTIRAgDyAQIBCUkiEPIAhBBGohCCAJQQRqIQkMAAsLIAUgBkECdGogDzgCACAHIANqIQcgBkEBaiEGDAALCwuVAgMGfwJ7AX0gASEHAkADQCAGIAJPDQH9DAAAAAAAAAAAAAAAAAAAAAAhDP0MAAAAAAAAAAAAAAAAAAAAACENIAAhCCAHIQkgByAEQXhxQQJ0aiEKIAcgBEECdGohCwJAA0AgCSAKTw0BIAwgCP0ABAAgCf0ABAD95gH95AEhDCANIAj9AAQQIAn9AAQQ/eYB/eQBIQ0gCEEgaiEIIAlBIGohCQwACwsgDCAN/eQBIQwgDP0fACAM/R8BkiAM/R8CIAz9HwOSkiEOAkADQCAJIAtPDQEgDiAIKgIAIAkqAgCUkiEOIAhBBGohCCAJQQRqIQkMAAsLIAUgBkECdGogDjgCACAHIANqIQcgBkEBaiEGDAALCwtAAQJ/IARBAnQhBwJAA0AgBiADTw0BIAAgASACIAZBAnRqKAIAIAdsaiAEIAUgBkECdGoQAyAGQQFqIQYMAAsLCwwAIAAgASACIAMQBAv/AQMCfwN7An39DAAAAAAAAAAAAAAAAAAAAAAhBv0MAAAAAAAAAAAAAAAAAAAAACEHIAEgAkF4cUECdGohBCABIAJBAnRqIQUCQANAIAEgBE8NASAA/QAEACAB/QAEAP3lASEIIAYgCCAI/eYB/eQBIQYgAP0ABBAgAf0ABBD95QEhCCAHIAggCP3mAf3kASEHIABBIGohACABQSBqIQEMAAsLIAYgB/3kASEGIAb9HwAgBv0fAZIgBv0fAiAG/R8DkpIhCQJAA0AgASAFTw0BIAAqAgAgASoCAJMhCiAJIAogCpSSIQkgAEEEaiEAIAFBBGohAQwACwsgAyAJOAIAC6sBAQZ/IAJBAnQhCiAAIQYCQANAIAUgAU8NASAEIAMgBUECdGooAgAgCmxqIQcgBiACQXxxQQJ0aiEIIAYgCmohCQJAA0AgBiAITw0BIAcgB/0ABAAgBv0ABAD95AH9CwQAIAZBEGohBiAHQRBqIQcMAAsLAkADQCAGIAlPDQEgByAHKgIAIAYqAgCSOAIAIAZBBGohBiAHQQRqIQcMAAsLIAVBAWohBQwACwsLAO4DBG5hbWUBGwIDBmwyX29uZQQQbDJfcm93c19pbnRlcm5hbALMAgYAEQABcQEEYmFzZQIFY291bnQDBnN0cmlkZQQDZGltBQNvdXQGAXIHAXAIAnFwCQJwcAoEZW5kOAsDZW5kDANhY2MNBGFjYzIOAWQPAXMQAXQBDwABcQEEYmFzZQIFY291bnQDBnN0cmlkZQQDZGltBQNvdXQGAXIHAXAIAnFwCQJwcAoEZW5kOAsDZW5kDANhY2MNBGFjYzIOAXMCCAABcQEEdmVjcwIDaWRzAwFuBANkaW0FA291dAYBagcIcm93Qnl0ZXMDBAABcQEBcAIDZGltAwNvdXQECwACcXABAnBwAgNkaW0DA291dAQEZW5kOAUDZW5kBgNhY2MHBGFjYzIIAWQJAXMKAXQFCwAEcm93cwEFY291bnQCA2RpbQMGYXNzaWduBARzdW1zBQFpBgFwBwFzCARlbmQ0CQNlbmQKCHJvd0J5dGVzA3sFAAYABGRvbmUBBHJvd3MCAmU4AwJsOAQCZTEFAmwxAQYABGRvbmUBBHJvd3MCAmU4AwJsOAQCZTEFAmwxAgIABGRvbmUBBGVhY2gEBAACZTgBAmw4AgJlMQMCbDEFBgAEZG9uZQEEZWFjaAICZTQDAmw0BAJlMQUCbDE=';

/** The slice of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  mem: WasmMemory;
  l2_rows(q: number, base: number, count: number, stride: number, dim: number, out: number): void;
  dot_rows(q: number, base: number, count: number, stride: number, dim: number, out: number): void;
  l2_ids(q: number, vecs: number, ids: number, n: number, dim: number, out: number): void;
  add_rows(rows: number, count: number, dim: number, assign: number, sums: number): void;
}

let compiled: object | null = null;

const PAGE = 65536;

export class SimdMemory {
  readonly k: Kernels;
  private readonly mem: WasmMemory;
  /** Free blocks as parallel sorted arrays of [start, size) byte ranges. */
  private freeStart: number[] = [];
  private freeSize: number[] = [];
  private readonly sizes = new Map<number, number>();
  private top = 16; // byte 0..15 reserved so that pointer 0 never means "allocated"

  constructor() {
    compiled ??= new Wasm.Module(Buffer.from(KERNELS_WASM, 'base64'));
    this.k = new Wasm.Instance(compiled, {}).exports as unknown as Kernels;
    this.mem = this.k.mem;
  }

  get buffer(): ArrayBuffer {
    return this.mem.buffer;
  }

  /** Whole-memory views (indices are byte offsets / 4). */
  f32(): Float32Array {
    return new Float32Array(this.mem.buffer);
  }

  u32(): Uint32Array {
    return new Uint32Array(this.mem.buffer);
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.mem.buffer, ptr, len);
  }

  alloc(bytes: number): number {
    const size = Math.max(16, (bytes + 15) & ~15);
    for (let i = 0; i < this.freeStart.length; i++) {
      if (this.freeSize[i] < size) continue;
      const ptr = this.freeStart[i];
      if (this.freeSize[i] === size) {
        this.freeStart.splice(i, 1);
        this.freeSize.splice(i, 1);
      } else {
        this.freeStart[i] += size;
        this.freeSize[i] -= size;
      }
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.mem.buffer.byteLength;
    if (end > have) this.mem.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /**
   * Resizes a block, keeping its first min(old, new) bytes. A block at the top of memory grows in
   * place; any other moves to the top, so a block that keeps growing (the centroid vectors)
   * settles there and stops leaving copies of itself behind.
   */
  realloc(ptr: number, bytes: number): number {
    const old = this.sizes.get(ptr);
    if (old === undefined) throw new Error('SimdMemory: realloc of an unknown block');
    const size = Math.max(16, (bytes + 15) & ~15);
    if (ptr + old === this.top) {
      const have = this.mem.buffer.byteLength;
      if (ptr + size > have) this.mem.grow(Math.ceil((ptr + size - have) / PAGE));
      this.top = ptr + size;
      this.sizes.set(ptr, size);
      return ptr;
    }
    const np = this.top;
    const have = this.mem.buffer.byteLength;
    if (np + size > have) this.mem.grow(Math.ceil((np + size - have) / PAGE));
    this.top = np + size;
    this.sizes.set(np, size);
    new Uint8Array(this.mem.buffer).copyWithin(np, ptr, ptr + Math.min(old, size));
    this.free(ptr);
    return np;
  }

  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    if (ptr + size === this.top) {
      this.top = ptr;
      // The block below may now touch the top too.
      const last = this.freeStart.length - 1;
      if (last >= 0 && this.freeStart[last] + this.freeSize[last] === this.top) {
        this.top = this.freeStart[last];
        this.freeStart.pop();
        this.freeSize.pop();
      }
      return;
    }
    let i = 0;
    while (i < this.freeStart.length && this.freeStart[i] < ptr) i++;
    this.freeStart.splice(i, 0, ptr);
    this.freeSize.splice(i, 0, size);
    // Coalesce with the next, then with the previous block.
    if (i + 1 < this.freeStart.length && ptr + this.freeSize[i] === this.freeStart[i + 1]) {
      this.freeSize[i] += this.freeSize[i + 1];
      this.freeStart.splice(i + 1, 1);
      this.freeSize.splice(i + 1, 1);
    }
    if (i > 0 && this.freeStart[i - 1] + this.freeSize[i - 1] === this.freeStart[i]) {
      this.freeSize[i - 1] += this.freeSize[i];
      this.freeStart.splice(i, 1);
      this.freeSize.splice(i, 1);
    }
  }

  /** Resident bytes: the whole linear memory (including free space: it is never returned). */
  byteLength(): number {
    return this.mem.buffer.byteLength;
  }
}
