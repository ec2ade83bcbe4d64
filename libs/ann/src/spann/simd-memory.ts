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
  'AGFzbQEAAAABNAVgBn9/f39/fwBgCH9/f39/fX9/AX9gCH9/f39/f39/AX9gBn9/f39/fQF/YAV/f39/fwADDg0AAAEBAAEBAQECAgMEBQMBAAEHpwENA21lbQIAB2wyX3Jvd3MAAAhkb3Rfcm93cwABCmwyX3Jvd3NfbHQAAgtkb3Rfcm93c19ndAADBmwyX2lkcwAEDWwyX3Jvd3NfdThfbHQABQ5kb3Rfcm93c191OF9ndAAGDmwyX3Jvd3NfdThpX2x0AAcPZG90X3Jvd3NfdThpX2d0AAgHdG9wa19sMgAJC3RvcGtfbDJfdThpAAoIYWRkX3Jvd3MADArjJw2cAwMFfwV7An0CQANAIAYgAk8NASAAIQcgASEI/QwAAAAAAAAAAAAAAAAAAAAAIQv9DAAAAAAAAAAAAAAAAAAAAAAhDP0MAAAAAAAAAAAAAAAAAAAAACEN/QwAAAAAAAAAAAAAAAAAAAAAIQ4gCCAEQXBxQQJ0aiEJIAggBEECdGohCgJAA0AgCCAJTw0BIAf9AAQAIAj9AAQA/eUBIQ8gCyAPIA/95gH95AEhCyAH/QAEECAI/QAEEP3lASEPIAwgDyAP/eYB/eQBIQwgB/0ABCAgCP0ABCD95QEhDyANIA8gD/3mAf3kASENIAf9AAQwIAj9AAQw/eUBIQ8gDiAPIA/95gH95AEhDiAHQcAAaiEHIAhBwABqIQgMAAsLIAsgDP3kASANIA795AH95AEhDyAP/R8AIA/9HwGSIA/9HwIgD/0fA5KSIRACQANAIAggCk8NASAHKgIAIAgqAgCTIREgECARIBGUkiEQIAdBBGohByAIQQRqIQgMAAsLIAUgBkECdGogEDgCACABIANqIQEgBkEBaiEGDAALCwvxAgMFfwV7An0CQANAIAYgAk8NASAAIQcgASEI/QwAAAAAAAAAAAAAAAAAAAAAIQv9DAAAAAAAAAAAAAAAAAAAAAAhDP0MAAAAAAAAAAAAAAAAAAAAACEN/QwAAAAAAAAAAAAAAAAAAAAAIQ4gCCAEQXBxQQJ0aiEJIAggBEECdGohCgJAA0AgCCAJTw0BIAsgB/0ABAAgCP0ABAD95gH95AEhCyAMIAf9AAQQIAj9AAQQ/eYB/eQBIQwgDSAH/QAEICAI/QAEIP3mAf3kASENIA4gB/0ABDAgCP0ABDD95gH95AEhDiAHQcAAaiEHIAhBwABqIQgMAAsLIAsgDP3kASANIA795AH95AEhDyAP/R8AIA/9HwGSIA/9HwIgD/0fA5KSIRACQANAIAggCk8NASAQIAcqAgAgCCoCAJSSIRAgB0EEaiEHIAhBBGohCAwACwsgBSAGQQJ0aiAQOAIAIAEgA2ohASAGQQFqIQYMAAsLC4QEAwd/BXsCfQJAA0AgCCACTw0BAkAgACELIAEhDP0MAAAAAAAAAAAAAAAAAAAAACEP/QwAAAAAAAAAAAAAAAAAAAAAIRD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACESIAwgBEFwcUECdGohDSAMIARBAnRqIQ4gDEGAAmohCgJAA0AgDCANTw0BIAv9AAQAIAz9AAQA/eUBIRMgDyATIBP95gH95AEhDyAL/QAEECAM/QAEEP3lASETIBAgEyAT/eYB/eQBIRAgC/0ABCAgDP0ABCD95QEhEyARIBMgE/3mAf3kASERIAv9AAQwIAz9AAQw/eUBIRMgEiATIBP95gH95AEhEiALQcAAaiELIAxBwABqIQwgDCAKTwRAIApBgAJqIQogDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIgBWANAwsMAAsLIA8gEP3kASARIBL95AH95AEhEyAT/R8AIBP9HwGSIBP9HwIgE/0fA5KSIRQCQANAIAwgDk8NASALKgIAIAwqAgCTIRUgFCAVIBWUkiEUIAtBBGohCyAMQQRqIQwMAAsLIBQgBV1FDQAgBiAJQQJ0aiAINgIAIAcgCUECdGogFDgCACAJQQFqIQkLIAEgA2ohASAIQQFqIQgMAAsLIAkLkgMDB38FewJ9AkADQCAIIAJPDQECQCAAIQsgASEM/QwAAAAAAAAAAAAAAAAAAAAAIQ/9DAAAAAAAAAAAAAAAAAAAAAAhEP0MAAAAAAAAAAAAAAAAAAAAACER/QwAAAAAAAAAAAAAAAAAAAAAIRIgDCAEQXBxQQJ0aiENIAwgBEECdGohDgJAA0AgDCANTw0BIA8gC/0ABAAgDP0ABAD95gH95AEhDyAQIAv9AAQQIAz9AAQQ/eYB/eQBIRAgESAL/QAEICAM/QAEIP3mAf3kASERIBIgC/0ABDAgDP0ABDD95gH95AEhEiALQcAAaiELIAxBwABqIQwMAAsLIA8gEP3kASARIBL95AH95AEhEyAT/R8AIBP9HwGSIBP9HwIgE/0fA5KSIRQCQANAIAwgDk8NASAUIAsqAgAgDCoCAJSSIRQgC0EEaiELIAxBBGohDAwACwsgFCAFXkUNACAGIAlBAnRqIAg2AgAgByAJQQJ0aiAUOAIAIAlBAWohCQsgASADaiEBIAhBAWohCAwACwsgCQurAwMGfwV7An0gBEECdCEHAkADQCAGIANPDQEgACEIIAEgAiAGQQJ0aigCACAHbGohCf0MAAAAAAAAAAAAAAAAAAAAACEM/QwAAAAAAAAAAAAAAAAAAAAAIQ39DAAAAAAAAAAAAAAAAAAAAAAhDv0MAAAAAAAAAAAAAAAAAAAAACEPIAkgBEFwcUECdGohCiAJIARBAnRqIQsCQANAIAkgCk8NASAI/QAEACAJ/QAEAP3lASEQIAwgECAQ/eYB/eQBIQwgCP0ABBAgCf0ABBD95QEhECANIBAgEP3mAf3kASENIAj9AAQgIAn9AAQg/eUBIRAgDiAQIBD95gH95AEhDiAI/QAEMCAJ/QAEMP3lASEQIA8gECAQ/eYB/eQBIQ8gCEHAAGohCCAJQcAAaiEJDAALCyAMIA395AEgDiAP/eQB/eQBIRAgEP0fACAQ/R8BkiAQ/R8CIBD9HwOSkiERAkADQCAJIAtPDQEgCCoCACAJKgIAkyESIBEgEiASlJIhESAIQQRqIQggCUEEaiEJDAALCyAFIAZBAnRqIBE4AgAgBkEBaiEGDAALCwucBAMHfwd7An0CQANAIAggAk8NAQJAIAAhCyABIQz9DAAAAAAAAAAAAAAAAAAAAAAhD/0MAAAAAAAAAAAAAAAAAAAAACEQ/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEiAMIARBcHFqIQ0gDCAEaiEOIAxBwABqIQoCQANAIAwgDU8NASAM/QAEACEUIBT9iQEhFSAL/QAEACAV/akB/foB/eUBIRMgDyATIBP95gH95AEhDyAL/QAEECAV/aoB/foB/eUBIRMgECATIBP95gH95AEhECAU/YoBIRUgC/0ABCAgFf2pAf36Af3lASETIBEgEyAT/eYB/eQBIREgC/0ABDAgFf2qAf36Af3lASETIBIgEyAT/eYB/eQBIRIgC0HAAGohCyAMQRBqIQwgDCAKTwRAIApBwABqIQogDyAQ/eQBIBEgEv3kAf3kASETIBP9HwAgE/0fAZIgE/0fAiAT/R8DkpIgBWANAwsMAAsLIA8gEP3kASARIBL95AH95AEhEyAT/R8AIBP9HwGSIBP9HwIgE/0fA5KSIRYCQANAIAwgDk8NASALKgIAIAwtAACzkyEXIBYgFyAXlJIhFiALQQRqIQsgDEEBaiEMDAALCyAWIAVdRQ0AIAYgCUECdGogCDYCACAHIAlBAnRqIBY4AgAgCUEBaiEJCyABIANqIQEgCEEBaiEIDAALCyAJC6oDAwd/B3sCfQJAA0AgCCACTw0BAkAgACELIAEhDP0MAAAAAAAAAAAAAAAAAAAAACEP/QwAAAAAAAAAAAAAAAAAAAAAIRD9DAAAAAAAAAAAAAAAAAAAAAAhEf0MAAAAAAAAAAAAAAAAAAAAACESIAwgBEFwcWohDSAMIARqIQ4CQANAIAwgDU8NASAM/QAEACEUIBT9iQEhFSAPIAv9AAQAIBX9qQH9+gH95gH95AEhDyAQIAv9AAQQIBX9qgH9+gH95gH95AEhECAU/YoBIRUgESAL/QAEICAV/akB/foB/eYB/eQBIREgEiAL/QAEMCAV/aoB/foB/eYB/eQBIRIgC0HAAGohCyAMQRBqIQwMAAsLIA8gEP3kASARIBL95AH95AEhEyAT/R8AIBP9HwGSIBP9HwIgE/0fA5KSIRYCQANAIAwgDk8NASAWIAsqAgAgDC0AALOUkiEWIAtBBGohCyAMQQFqIQwMAAsLIBYgBV5FDQAgBiAJQQJ0aiAINgIAIAcgCUECdGogFjgCACAJQQFqIQkLIAEgA2ohASAIQQFqIQgMAAsLIAkLkAMEB38EewJ/AX0CQANAIAggAk8NAQJA/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEiAAIQsgASEMIAwgBEFwcWohDSAMIARqIQ4gDEHAAGohCgJAA0AgDCANTw0BIAz9AAQAIQ8gC/0ABAAgD/2JAf2RASEQIBEgECAQ/boB/a4BIREgC/0ABBAgD/2KAf2RASEQIBIgECAQ/boB/a4BIRIgC0EgaiELIAxBEGohDCAMIApPBEAgCkHAAGohCiARIBL9rgEhECAQ/RsAIBD9GwFqIBD9GwIgEP0bA2pqsiAFYA0DCwwACwsgESAS/a4BIRAgEP0bACAQ/RsBaiAQ/RsCIBD9GwNqaiETAkADQCAMIA5PDQEgCy4BACAMLQAAayEUIBMgFCAUbGohEyALQQJqIQsgDEEBaiEMDAALCyATsiEVIBUgBV1FDQAgBiAJQQJ0aiAINgIAIAcgCUECdGogFTgCACAJQQFqIQkLIAEgA2ohASAIQQFqIQgMAAsLIAkLwQIEB38EewJ/AX0CQANAIAggAk8NAQJA/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEiAAIQsgASEMIAwgBEFwcWohDSAMIARqIQ4gDEHAAGohCgJAA0AgDCANTw0BIAz9AAQAIQ8gESAL/QAEACAP/YkB/boB/a4BIREgEiAL/QAEECAP/YoB/boB/a4BIRIgC0EgaiELIAxBEGohDAwACwsgESAS/a4BIRAgEP0bACAQ/RsBaiAQ/RsCIBD9GwNqaiETAkADQCAMIA5PDQEgEyALLgEAIAwtAABsaiETIAtBAmohCyAMQQFqIQwMAAsLIBOyIRUgFSAFXkUNACAGIAlBAnRqIAg2AgAgByAJQQJ0aiAVOAIAIAlBAWohCQsgASADaiEBIAhBAWohCAwACwsgCQuTBAQBfQd/BXsCfQJAA0AgCSACTw0BIAogBUkEfUMAAIB/BSAHIAVBAWtBAnRqKgIACyEIAkAgACEMIAEhDf0MAAAAAAAAAAAAAAAAAAAAACEQ/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEv0MAAAAAAAAAAAAAAAAAAAAACETIA0gBEFwcUECdGohDiANIARBAnRqIQ8gDUGAAmohCwJAA0AgDSAOTw0BIAz9AAQAIA39AAQA/eUBIRQgECAUIBT95gH95AEhECAM/QAEECAN/QAEEP3lASEUIBEgFCAU/eYB/eQBIREgDP0ABCAgDf0ABCD95QEhFCASIBQgFP3mAf3kASESIAz9AAQwIA39AAQw/eUBIRQgEyAUIBT95gH95AEhEyAMQcAAaiEMIA1BwABqIQ0gDSALTwRAIAtBgAJqIQsgECAR/eQBIBIgE/3kAf3kASEUIBT9HwAgFP0fAZIgFP0fAiAU/R8DkpIgCGANAwsMAAsLIBAgEf3kASASIBP95AH95AEhFCAU/R8AIBT9HwGSIBT9HwIgFP0fA5KSIRUCQANAIA0gD08NASAMKgIAIA0qAgCTIRYgFSAWIBaUkiEVIAxBBGohDCANQQRqIQ0MAAsLIBUgCF1FDQAgBSAKIAYgByAJIBUQCyEKCyABIANqIQEgCUEBaiEJDAALCyAKC58DBQF9B38EewJ/AX0CQANAIAkgAk8NASAKIAVJBH1DAACAfwUgByAFQQFrQQJ0aioCAAshCAJA/QwAAAAAAAAAAAAAAAAAAAAAIRL9DAAAAAAAAAAAAAAAAAAAAAAhEyAAIQwgASENIA0gBEFwcWohDiANIARqIQ8gDUHAAGohCwJAA0AgDSAOTw0BIA39AAQAIRAgDP0ABAAgEP2JAf2RASERIBIgESAR/boB/a4BIRIgDP0ABBAgEP2KAf2RASERIBMgESAR/boB/a4BIRMgDEEgaiEMIA1BEGohDSANIAtPBEAgC0HAAGohCyASIBP9rgEhESAR/RsAIBH9GwFqIBH9GwIgEf0bA2pqsiAIYA0DCwwACwsgEiAT/a4BIREgEf0bACAR/RsBaiAR/RsCIBH9GwNqaiEUAkADQCANIA9PDQEgDC4BACANLQAAayEVIBQgFSAVbGohFCAMQQJqIQwgDUEBaiENDAALCyAUsiEWIBYgCF1FDQAgBSAKIAYgByAJIBYQCyEKCyABIANqIQEgCUEBaiEJDAALCyAKC4YBAQJ/IAEgAEEBayABIABJGyEGAkADQCAGRQ0BIAZBAWtBAnQhByADIAdqKgIAIAVeRQ0BIAMgB2ogAyAHaioCADgCBCACIAdqIAIgB2ooAgA2AgQgBkEBayEGDAALCyADIAZBAnRqIAU4AgAgAiAGQQJ0aiAENgIAIAFBAWogASABIABJGwurAQEGfyACQQJ0IQogACEGAkADQCAFIAFPDQEgBCADIAVBAnRqKAIAIApsaiEHIAYgAkF8cUECdGohCCAGIApqIQkCQANAIAYgCE8NASAHIAf9AAQAIAb9AAQA/eQB/QsEACAGQRBqIQYgB0EQaiEHDAALCwJAA0AgBiAJTw0BIAcgByoCACAGKgIAkjgCACAGQQRqIQYgB0EEaiEHDAALCyAFQQFqIQUMAAsLCw==';

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
  /** Rows with squared L2 < thr as (index, distance) pairs; returns the count (early abandon). */
  l2_rows_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** Rows with q . row > thr as (index, dot) pairs; returns the count. */
  dot_rows_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** l2_rows_lt / dot_rows_gt over rows of dim unsigned bytes (the query stays f32). */
  l2_rows_u8_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  dot_rows_u8_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** The u8 scans for a query of 0..255 integers given as i16 at q (exact integer arithmetic). */
  l2_rows_u8i_lt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  dot_rows_u8i_gt(q: number, base: number, count: number, stride: number, dim: number, thr: number, outIdx: number, outD: number): number;
  /** The k nearest rows (ascending (row, distance) at outIdx / outD); returns how many. */
  topk_l2(q: number, base: number, count: number, stride: number, dim: number, k: number, outIdx: number, outD: number): number;
  /** topk_l2 over u8 rows for an i16 query of 0..255 integers. */
  topk_l2_u8i(q: number, base: number, count: number, stride: number, dim: number, k: number, outIdx: number, outD: number): number;
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
