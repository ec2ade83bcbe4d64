/**
 * Posting records: [u32 internal id][vector], fixed size, 4-byte aligned.
 *
 * Value types (SPTAG's ValueType): `f32` stores the stored-form vector as float32; `u8` stores
 * each coordinate as one unsigned byte and is used only when every coordinate is an integer in
 * 0..255 (SIFT descriptors, image pixels), so it is lossless: the scan kernels widen the bytes to
 * f32 and compute the same distances as on the float32 form, from a quarter of the bytes. Reading
 * the probed records from the page cache is the largest cost of a query, so this matters.
 */
export type ValueType = 'f32' | 'u8';

/** Record size in bytes for a value type (u8 rows are padded to 4 bytes so ids stay aligned). */
export function recordBytes(dim: number, valueType: ValueType): number {
  return 4 + (valueType === 'f32' ? dim * 4 : (dim + 3) & ~3);
}

/** True when v[off..off+dim) is exactly representable as unsigned bytes. */
export function fitsU8(v: ArrayLike<number>, off: number, dim: number): boolean {
  // x & 255 truncates to an integer in 0..255: equal to x only for such integers (NaN fails).
  for (let i = 0; i < dim; i++) if ((v[off + i] & 255) !== v[off + i]) return false;
  return true;
}

/** The value type a batch of vectors can be stored in losslessly (u8 only if all of them fit). */
export function detectValueType(v: Float32Array, count: number, dim: number): ValueType {
  if (count === 0) return 'f32';
  for (let i = 0; i < count; i++) if (!fitsU8(v, i * dim, dim)) return 'f32';
  return 'u8';
}

/**
 * A growable run of encoded records in memory (what a list write takes): byte, u32 and f32
 * views over one buffer.
 */
export class RecordBuffer {
  readonly recBytes: number;
  bytes: Uint8Array = new Uint8Array(0);
  private u32: Uint32Array = new Uint32Array(0);
  private f32: Float32Array = new Float32Array(0);

  constructor(
    readonly dim: number,
    readonly valueType: ValueType,
    capacity = 0,
  ) {
    this.recBytes = recordBytes(dim, valueType);
    this.ensure(capacity);
  }

  /** Room for at least n records (contents kept). */
  ensure(n: number): void {
    if (this.bytes.length >= n * this.recBytes) return;
    const b = new Uint8Array(Math.max(n, Math.ceil((this.bytes.length / this.recBytes) * 1.5)) * this.recBytes);
    b.set(this.bytes);
    this.bytes = b;
    this.u32 = new Uint32Array(b.buffer);
    this.f32 = new Float32Array(b.buffer);
  }

  /** Encodes record i from an internal id and a stored-form vector v[off..off+dim). */
  set(i: number, id: number, v: ArrayLike<number>, off: number): void {
    const at = i * this.recBytes;
    this.u32[at >> 2] = id;
    const dim = this.dim;
    if (this.valueType === 'f32') {
      const f = this.f32;
      const p = (at >> 2) + 1;
      for (let t = 0; t < dim; t++) f[p + t] = v[off + t];
    } else {
      const b = this.bytes;
      const p = at + 4;
      for (let t = 0; t < dim; t++) b[p + t] = v[off + t];
    }
  }

  /** Copies record j of another buffer of the same layout into slot i. */
  copyFrom(i: number, src: Uint8Array, srcAt: number): void {
    this.bytes.set(src.subarray(srcAt, srcAt + this.recBytes), i * this.recBytes);
  }

  view(count: number): Uint8Array {
    return this.bytes.subarray(0, count * this.recBytes);
  }
}

/** Decodes the vector of the record at byte `at` of `bytes` (f32 view `f32` of the same memory). */
export function decodeRecord(valueType: ValueType, dim: number, bytes: Uint8Array, f32: Float32Array, at: number, out: Float32Array, off: number): void {
  if (valueType === 'f32') {
    const p = (at >> 2) + 1;
    for (let t = 0; t < dim; t++) out[off + t] = f32[p + t];
  } else {
    const p = at + 4;
    for (let t = 0; t < dim; t++) out[off + t] = bytes[p + t];
  }
}
