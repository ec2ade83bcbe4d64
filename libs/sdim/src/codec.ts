import { BucketTables, InterestOptions, Normalization, gatherInterest } from './bucket-tables';
import { SdimConfig, SdimHasher, Vector, validateConfig } from './hasher';

/**
 * Binary encoding of BucketTables (format version 1), little-endian. Only non-empty buckets are
 * written, so a short history costs little.
 *
 *   offset  size  field
 *   0       4     magic "SDIM"
 *   4       1     format version (1)
 *   5       1     dtype of the sums: 1 = float32 (compact, lossy), 2 = float64 (exact state)
 *   6       1     tau
 *   7       1     reserved (0)
 *   8       2     m
 *   10      2     d
 *   12      4     seed (uint32)
 *   16      4     n = number of non-empty buckets
 *   20      4     reserved (0)
 *   24      2n    bucket indexes (uint16, ascending; index = group * 2^tau + signature)
 *   ..      4n    counts (uint32), starting at the next multiple of 4
 *   ..      n*d*w sums (float32 or float64), starting at the next multiple of 8
 *
 * float64 keeps the exact sums (see snap() in bucket-tables.ts): a writer that decodes, adds and
 * re-encodes keeps add/remove exact. float32 halves the size; it is a read-only snapshot, since
 * re-adding to rounded sums would break exactness.
 */
export type SumsDtype = 'f32' | 'f64';

export const MAGIC = 0x4d494453; // "SDIM" read as uint32 little-endian
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;

export interface EncodeOptions {
  /** Default 'f64' (exact, what a writer must store); 'f32' for a compact read-only snapshot. */
  dtype?: SumsDtype;
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

function layout(n: number, d: number, dtype: SumsDtype) {
  const countsOffset = align(HEADER_BYTES + 2 * n, 4);
  const sumsOffset = align(countsOffset + 4 * n, 8);
  const byteLength = sumsOffset + n * d * (dtype === 'f32' ? 4 : 8);
  return { countsOffset, sumsOffset, byteLength };
}

export function encodeTables(t: BucketTables, options: EncodeOptions = {}): Buffer {
  const dtype = options.dtype ?? 'f64';
  const { seed, m, tau, d } = t.config;
  const idx: number[] = [];
  for (let b = 0; b < t.counts.length; b++) if (t.counts[b] > 0) idx.push(b);
  const n = idx.length;
  const { countsOffset, sumsOffset, byteLength } = layout(n, d, dtype);
  // Buffer.alloc (not allocUnsafe) gives a zero-filled buffer of its own, 8-byte aligned.
  const buf = Buffer.alloc(byteLength);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt8(FORMAT_VERSION, 4);
  buf.writeUInt8(dtype === 'f32' ? 1 : 2, 5);
  buf.writeUInt8(tau, 6);
  buf.writeUInt16LE(m, 8);
  buf.writeUInt16LE(d, 10);
  buf.writeUInt32LE(seed, 12);
  buf.writeUInt32LE(n, 16);
  const sums = dtype === 'f32' ? new Float32Array(n * d) : new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const b = idx[i];
    buf.writeUInt16LE(b, HEADER_BYTES + 2 * i);
    buf.writeUInt32LE(t.counts[b], countsOffset + 4 * i);
    sums.set(t.sums.subarray(b * d, (b + 1) * d), i * d);
  }
  Buffer.from(sums.buffer, sums.byteOffset, sums.byteLength).copy(buf, sumsOffset);
  return buf;
}

export function readHeader(buf: Uint8Array): TablesHeader {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES || b.readUInt32LE(0) !== MAGIC) throw new Error('not an SDIM tables blob (bad magic)');
  const version = b.readUInt8(4);
  if (version !== FORMAT_VERSION) throw new Error(`unsupported SDIM tables format version ${version}`);
  const dt = b.readUInt8(5);
  if (dt !== 1 && dt !== 2) throw new Error(`unknown SDIM sums dtype ${dt}`);
  const dtype: SumsDtype = dt === 1 ? 'f32' : 'f64';
  const config: SdimConfig = { tau: b.readUInt8(6), m: b.readUInt16LE(8), d: b.readUInt16LE(10), seed: b.readUInt32LE(12) };
  validateConfig(config);
  const nonEmpty = b.readUInt32LE(16);
  const l = layout(nonEmpty, config.d, dtype);
  if (b.length < l.byteLength) throw new Error(`truncated SDIM tables blob: ${b.length} < ${l.byteLength} bytes`);
  return { config, dtype, nonEmpty, ...l };
}

function sameConfig(a: SdimConfig, b: SdimConfig): boolean {
  return a.seed === b.seed && a.m === b.m && a.tau === b.tau && a.d === b.d;
}

/** A typed-array view on the blob when aligned, else a copy (Buffers from a socket may be unaligned). */
function view<T extends Float32Array | Float64Array | Uint32Array | Uint16Array>(
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
  sums: Float32Array | Float64Array;
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
    sums: header.dtype === 'f32' ? view(Float32Array, buf, header.sumsOffset, n * d) : view(Float64Array, buf, header.sumsOffset, n * d),
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
    for (let k = 0; k < d; k++) t.sums[b * d + k] = p.sums[i * d + k];
  }
  return t;
}

/**
 * Interest vectors straight from an encoded blob, without materialising BucketTables: the
 * normalised vectors of the non-empty buckets are computed once, then gathered per candidate.
 * Same arithmetic as BucketTables.interestBatch for an f64 blob (bitwise equal results).
 */
export function interestFromEncoded(buf: Uint8Array, hasher: SdimHasher, qs: readonly Vector[], options: InterestOptions = {}): Float64Array {
  const sigs = qs.map((q) => hasher.signatures(q));
  return interestFromEncodedSignatures(buf, hasher, sigs, options.normalize ?? 'l2');
}

/** As interestFromEncoded, for candidates whose signatures are already known. */
export function interestFromEncodedSignatures(
  buf: Uint8Array,
  hasher: SdimHasher,
  signatures: readonly ArrayLike<number>[],
  normalize: Normalization = 'l2',
  out?: Float64Array,
): Float64Array {
  const p = payload(buf, hasher);
  const d = hasher.config.d;
  const v = new Float64Array(hasher.groups * hasher.buckets * d);
  const { sums, counts, idx } = p;
  for (let i = 0; i < p.header.nonEmpty; i++) {
    const base = idx[i] * d;
    const src = i * d;
    let div = 1;
    if (normalize === 'l2') {
      let ss = 0;
      for (let k = 0; k < d; k++) ss += sums[src + k] * sums[src + k];
      div = Math.sqrt(ss);
      if (div === 0) continue;
    } else if (normalize === 'count') {
      div = counts[i];
    }
    if (normalize === 'none') for (let k = 0; k < d; k++) v[base + k] = sums[src + k];
    else for (let k = 0; k < d; k++) v[base + k] = sums[src + k] / div;
  }
  return gatherInterest(v, hasher.groups, hasher.buckets, d, signatures, out);
}
