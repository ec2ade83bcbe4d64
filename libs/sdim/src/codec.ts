import { BucketTables, DEFAULT_NORMALIZATION, InterestOptions, Normalization, gatherInterest } from './bucket-tables';
import { SdimConfig, SdimHasher, Vector, validateConfig } from './hasher';
import { sdimNative } from './kernels/native';

/**
 * Binary encoding of BucketTables (format version 1), little-endian. Only non-empty buckets are
 * written, so a short history costs little.
 *
 *   offset  size  field
 *   0       4     magic "SDIM"
 *   4       1     format version (1)
 *   5       1     dtype of the sums: 1 = float32 (lossy), 2 = float64 (exact),
 *                 3 = int32 fixed point, value = int / 2^16 (exact and compact, see below)
 *   6       1     tau
 *   7       1     reserved (0)
 *   8       2     m
 *   10      2     d
 *   12      4     seed (uint32)
 *   16      4     n = number of non-empty buckets
 *   20      4     folded seq (uint32): last delta-tail seq folded in (tail.ts); 0 = none
 *   24      2n    bucket indexes (uint16, ascending; index = group * 2^tau + signature)
 *   ..      4n    counts (uint32), starting at the next multiple of 4
 *   ..      n*d*w sums (w = 4 or 8 bytes), starting at the next multiple of 8
 *
 * The sums are multiples of 2^-16 (snap() in bucket-tables.ts). 'i32' stores them as exact
 * integers in 4 bytes while |sum| < 2^15, e.g. unit-bounded embeddings (|x_i| <= 1) and at most
 * 32,767 behaviours; 'f64' is exact for any range at 8 bytes. A writer that decodes, adds and
 * re-encodes keeps add/remove exact with either. 'f32' rounds the sums: a read-only snapshot.
 * The default, 'auto', writes 'i32' when every sum fits and 'f64' otherwise.
 */
export type SumsDtype = 'f32' | 'f64' | 'i32';
const DTYPE_CODE: Record<SumsDtype, number> = { f32: 1, f64: 2, i32: 3 };
const CODE_DTYPE: Record<number, SumsDtype> = { 1: 'f32', 2: 'f64', 3: 'i32' };
const FIXED_SCALE = 65536; // 2^16, the grid of snap()
const I32_LIMIT = 2 ** 31;

export const MAGIC = 0x4d494453; // "SDIM" read as uint32 little-endian
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;

export interface EncodeOptions {
  /** Default 'auto': 'i32' when every sum fits, else 'f64'. Both are exact; 'f32' is lossy. */
  dtype?: SumsDtype | 'auto';
}

export interface TablesHeader {
  config: SdimConfig;
  dtype: SumsDtype;
  nonEmpty: number;
  countsOffset: number;
  sumsOffset: number;
  byteLength: number;
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

/** Byte offsets of the counts and sums sections and the total length, for n non-empty buckets. */
export function tablesLayout(n: number, d: number, dtype: SumsDtype): { countsOffset: number; sumsOffset: number; byteLength: number } {
  const countsOffset = align(HEADER_BYTES + 2 * n, 4);
  const sumsOffset = align(countsOffset + 4 * n, 8);
  const byteLength = sumsOffset + n * d * (dtype === 'f64' ? 8 : 4);
  return { countsOffset, sumsOffset, byteLength };
}

/** True when every sum of a non-empty bucket is an integer multiple of 2^-16 with |sum| < 2^15 (exact as 'i32'). */
export function fitsFixedPoint(t: BucketTables): boolean {
  const d = t.config.d;
  for (let b = 0; b < t.counts.length; b++) {
    if (t.counts[b] === 0) continue;
    for (let i = b * d; i < (b + 1) * d; i++) {
      const v = t.sums[i] * FIXED_SCALE;
      if (!(v < I32_LIMIT && v >= -I32_LIMIT) || Math.floor(v) !== v) return false;
    }
  }
  return true;
}

export function encodeTables(t: BucketTables, options: EncodeOptions = {}): Buffer {
  const want = options.dtype ?? 'auto';
  const dtype: SumsDtype = want === 'auto' ? (fitsFixedPoint(t) ? 'i32' : 'f64') : want;
  if (dtype === 'i32' && want === 'i32' && !fitsFixedPoint(t)) throw new RangeError('a sum does not fit the int32 fixed-point encoding (|sum| >= 2^15 or off the 2^-16 grid)');
  const { seed, m, tau, d } = t.config;
  let n = 0;
  for (let b = 0; b < t.counts.length; b++) if (t.counts[b] > 0) n++;
  const { countsOffset, sumsOffset, byteLength } = tablesLayout(n, d, dtype);
  // A buffer of its own (offset 0), so the typed views below are aligned; zero-filled padding.
  const ab = new ArrayBuffer(byteLength);
  const buf = Buffer.from(ab);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt8(FORMAT_VERSION, 4);
  buf.writeUInt8(DTYPE_CODE[dtype], 5);
  buf.writeUInt8(tau, 6);
  buf.writeUInt16LE(m, 8);
  buf.writeUInt16LE(d, 10);
  buf.writeUInt32LE(seed, 12);
  buf.writeUInt32LE(n, 16);
  // Little-endian views: every platform Node supports is little-endian (checked at load below).
  const idx = new Uint16Array(ab, HEADER_BYTES, n);
  const counts = new Uint32Array(ab, countsOffset, n);
  const sums = dtype === 'f32' ? new Float32Array(ab, sumsOffset, n * d) : dtype === 'i32' ? new Int32Array(ab, sumsOffset, n * d) : new Float64Array(ab, sumsOffset, n * d);
  let i = 0;
  for (let b = 0; b < t.counts.length; b++) {
    if (t.counts[b] === 0) continue;
    idx[i] = b;
    counts[i] = t.counts[b];
    copyRow(t.sums, b * d, sums, i * d, d, dtype === 'i32' ? FIXED_SCALE : 1);
    i++;
  }
  return buf;
}

/** One bucket row into the payload; separate monomorphic loops per target type keep this fast. */
function copyRow(src: Float64Array, from: number, dst: Float32Array | Float64Array | Int32Array, to: number, d: number, scale: number): void {
  if (dst instanceof Int32Array) for (let k = 0; k < d; k++) dst[to + k] = src[from + k] * scale;
  else if (dst instanceof Float64Array) for (let k = 0; k < d; k++) dst[to + k] = src[from + k];
  else for (let k = 0; k < d; k++) dst[to + k] = src[from + k];
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('libs/sdim codec assumes a little-endian platform');

export function readHeader(buf: Uint8Array): TablesHeader {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES || b.readUInt32LE(0) !== MAGIC) throw new Error('not an SDIM tables blob (bad magic)');
  const version = b.readUInt8(4);
  if (version !== FORMAT_VERSION) throw new Error(`unsupported SDIM tables format version ${version}`);
  const dt = b.readUInt8(5);
  const dtype = CODE_DTYPE[dt];
  if (!dtype) throw new Error(`unknown SDIM sums dtype ${dt}`);
  const config: SdimConfig = { tau: b.readUInt8(6), m: b.readUInt16LE(8), d: b.readUInt16LE(10), seed: b.readUInt32LE(12) };
  validateConfig(config);
  const nonEmpty = b.readUInt32LE(16);
  const l = tablesLayout(nonEmpty, config.d, dtype);
  if (b.length < l.byteLength) throw new Error(`truncated SDIM tables blob: ${b.length} < ${l.byteLength} bytes`);
  return { config, dtype, nonEmpty, ...l };
}

export function sameConfig(a: SdimConfig, b: SdimConfig): boolean {
  return a.seed === b.seed && a.m === b.m && a.tau === b.tau && a.d === b.d;
}

/** A typed-array view on the blob when aligned, else a copy (Buffers from a socket may be unaligned). */
function view<T extends Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array>(
  ctor: { new (b: ArrayBufferLike, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number },
  buf: Uint8Array,
  offset: number,
  length: number,
): T {
  const at = buf.byteOffset + offset;
  if (at % ctor.BYTES_PER_ELEMENT === 0) return new ctor(buf.buffer, at, length);
  const copy = new ctor(length);
  new Uint8Array(copy.buffer).set(buf.subarray(offset, offset + length * ctor.BYTES_PER_ELEMENT));
  return copy;
}

interface Payload {
  header: TablesHeader;
  idx: Uint16Array;
  counts: Uint32Array;
  /** Raw sums; multiply by `scale` for the value (1, or 2^-16 for 'i32': exact in float64). */
  sums: Float32Array | Float64Array | Int32Array;
  scale: number;
}

function payload(buf: Uint8Array, hasher?: SdimHasher): Payload {
  const header = readHeader(buf);
  if (hasher && !sameConfig(header.config, hasher.config)) {
    throw new Error(`SDIM tables were built with ${JSON.stringify(header.config)}, hasher has ${JSON.stringify(hasher.config)}`);
  }
  const n = header.nonEmpty;
  const d = header.config.d;
  return {
    header,
    idx: view(Uint16Array, buf, HEADER_BYTES, n),
    counts: view(Uint32Array, buf, header.countsOffset, n),
    sums:
      header.dtype === 'f32'
        ? view(Float32Array, buf, header.sumsOffset, n * d)
        : header.dtype === 'i32'
          ? view(Int32Array, buf, header.sumsOffset, n * d)
          : view(Float64Array, buf, header.sumsOffset, n * d),
    scale: header.dtype === 'i32' ? 1 / FIXED_SCALE : 1,
  };
}

const hashers = new Map<string, SdimHasher>();

/** One shared hasher per config (drawing R costs a few ms for large m). */
export function hasherFor(config: SdimConfig): SdimHasher {
  const key = `${config.seed}/${config.m}/${config.tau}/${config.d}`;
  let h = hashers.get(key);
  if (!h) hashers.set(key, (h = new SdimHasher(config)));
  return h;
}

export function decodeTables(buf: Uint8Array, hasher?: SdimHasher): BucketTables {
  const p = payload(buf, hasher);
  const h = hasher ?? hasherFor(p.header.config);
  const t = new BucketTables(h);
  const d = h.config.d;
  const total = t.counts.length;
  for (let i = 0; i < p.header.nonEmpty; i++) {
    const b = p.idx[i];
    if (b >= total) throw new Error(`bucket index ${b} out of range`);
    t.counts[b] = p.counts[i];
    for (let k = 0; k < d; k++) t.sums[b * d + k] = p.sums[i * d + k] * p.scale;
  }
  return t;
}

/**
 * Interest vectors straight from an encoded blob, without materialising BucketTables: the
 * normalised vectors of the non-empty buckets are computed once, then gathered per candidate.
 * Same arithmetic as BucketTables.interestBatch for an exact (i32 or f64) blob: bitwise equal results.
 */
export function interestFromEncoded(buf: Uint8Array, hasher: SdimHasher, qs: readonly Vector[], options: InterestOptions = {}): Float64Array {
  const sigs = qs.map((q) => hasher.signatures(q));
  return interestFromEncodedSignatures(buf, hasher, sigs, options.normalize ?? DEFAULT_NORMALIZATION);
}

/**
 * Interest vectors of n candidates whose signatures are given as one array [n][m/tau] (as
 * SdimHasher.signaturesRows writes them), straight from the encoded blob: with native/sdim built
 * and 'pooled' or 'none', one kernel reads the counts and sums in place in the blob (unaligned
 * loads, no copy, no decoded tables); otherwise interestFromEncodedSignatures. Bit for bit equal.
 */
export function interestFromEncodedRows(buf: Uint8Array, hasher: SdimHasher, signatures: Uint16Array, normalize: Normalization = DEFAULT_NORMALIZATION, out?: Float64Array): Float64Array {
  const g = hasher.groups;
  if (signatures.length % g !== 0) throw new RangeError(`${signatures.length} signatures are not rows of ${g} groups`);
  const n = signatures.length / g;
  const d = hasher.config.d;
  const native = normalize === 'pooled' || normalize === 'none' ? sdimNative() : null;
  if (native) {
    const header = readHeader(buf);
    if (!sameConfig(header.config, hasher.config)) {
      throw new Error(`SDIM tables were built with ${JSON.stringify(header.config)}, hasher has ${JSON.stringify(hasher.config)}`);
    }
    const o = out ?? new Float64Array(n * d);
    if (o.length < n * d) throw new RangeError(`out holds ${o.length} values, ${n * d} needed`);
    native.gatherInterest(buf, header.nonEmpty, header.countsOffset, header.sumsOffset, DTYPE_CODE[header.dtype] as 1 | 2 | 3, g, hasher.buckets, d, signatures, normalize === 'pooled' ? 0 : 1, o);
    return o;
  }
  const rows: Uint16Array[] = [];
  for (let i = 0; i < n; i++) rows.push(signatures.subarray(i * g, (i + 1) * g));
  return interestFromEncodedSignaturesJs(buf, hasher, rows, normalize, out);
}

/** As interestFromEncoded, for candidates whose signatures are already known (the native kernel for 'pooled' and 'none' when built). */
export function interestFromEncodedSignatures(
  buf: Uint8Array,
  hasher: SdimHasher,
  signatures: readonly ArrayLike<number>[],
  normalize: Normalization = DEFAULT_NORMALIZATION,
  out?: Float64Array,
): Float64Array {
  if ((normalize === 'pooled' || normalize === 'none') && sdimNative()) {
    const g = hasher.groups;
    const flat = new Uint16Array(signatures.length * g);
    signatures.forEach((s, i) => {
      if (s.length !== g) throw new RangeError(`candidate ${i} has ${s.length} signatures, expected ${g}`);
      for (let j = 0; j < g; j++) flat[i * g + j] = s[j];
    });
    return interestFromEncodedRows(buf, hasher, flat, normalize, out);
  }
  return interestFromEncodedSignaturesJs(buf, hasher, signatures, normalize, out);
}

function interestFromEncodedSignaturesJs(buf: Uint8Array, hasher: SdimHasher, signatures: readonly ArrayLike<number>[], normalize: Normalization, out?: Float64Array): Float64Array {
  const p = payload(buf, hasher);
  const d = hasher.config.d;
  const v = new Float64Array(hasher.groups * hasher.buckets * d);
  const { sums, counts, idx, scale } = p;
  const row = new Float64Array(d);
  // 'pooled' divides by the selected counts, so it needs them per bucket index (zero when empty).
  const pooledCounts = normalize === 'pooled' ? new Int32Array(hasher.groups * hasher.buckets) : undefined;
  for (let i = 0; i < p.header.nonEmpty; i++) {
    if (pooledCounts) pooledCounts[idx[i]] = counts[i];
    const base = idx[i] * d;
    const src = i * d;
    // The value of each sum first (exact: scale is a power of two), then the same arithmetic as normalizedBuckets.
    for (let k = 0; k < d; k++) row[k] = sums[src + k] * scale;
    let div = 1;
    if (normalize === 'l2') {
      let ss = 0;
      for (let k = 0; k < d; k++) ss += row[k] * row[k];
      div = Math.sqrt(ss);
      if (div === 0) continue;
    } else if (normalize === 'count') {
      div = counts[i];
    }
    if (normalize === 'none' || normalize === 'pooled') for (let k = 0; k < d; k++) v[base + k] = row[k];
    else for (let k = 0; k < d; k++) v[base + k] = row[k] / div;
  }
  return gatherInterest(v, hasher.groups, hasher.buckets, d, signatures, out, pooledCounts);
}
