import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * TEXMEX vector files (the SIFT/GIST/BIGANN corpus formats), little-endian, one record per row:
 *   fvecs: int32 dim, then dim float32;  ivecs: int32 dim, then dim int32;  bvecs: int32 dim, then dim uint8.
 * Readers are synchronous and copy once into one contiguous row-major typed array (1M x 128 fvecs
 * = 512 MB out, read in well under a second). Every row must have the same dim.
 */
export interface FloatVectors {
  dim: number;
  count: number;
  data: Float32Array;
}

export interface IntVectors {
  dim: number;
  count: number;
  data: Int32Array;
}

export interface ReadOptions {
  /** Read at most this many rows. */
  limit?: number;
}

function header(buf: Buffer, elemBytes: number, path: string, limit?: number): { dim: number; count: number; rowBytes: number } {
  if (buf.length < 4) throw new Error(`${path}: empty or truncated TEXMEX file`);
  const dim = buf.readInt32LE(0);
  if (dim <= 0 || dim > 1 << 20) throw new Error(`${path}: implausible dimension ${dim}`);
  const rowBytes = 4 + dim * elemBytes;
  if (buf.length % rowBytes !== 0) throw new Error(`${path}: size ${buf.length} is not a multiple of the row size ${rowBytes} (dim ${dim})`);
  let count = buf.length / rowBytes;
  if (limit !== undefined) count = Math.min(count, Math.max(0, Math.floor(limit)));
  return { dim, count, rowBytes };
}

/** Reads 4-byte-element rows (fvecs / ivecs) into out, checking every row's dim. */
function read4(buf: Buffer, path: string, dim: number, count: number, rowBytes: number, out: Float32Array | Int32Array): void {
  // An aligned copy of the file lets us view it as 32-bit words and copy rows with set().
  const words = new Int32Array(count * (dim + 1));
  new Uint8Array(words.buffer).set(buf.subarray(0, count * rowBytes));
  const view = out instanceof Float32Array ? new Float32Array(words.buffer) : words;
  const rowWords = dim + 1;
  for (let i = 0; i < count; i++) {
    const w = i * rowWords;
    if (words[w] !== dim) throw new Error(`${path}: row ${i} has dimension ${words[w]}, expected ${dim}`);
    out.set(view.subarray(w + 1, w + rowWords), i * dim);
  }
}

export function readFvecs(path: string, opts: ReadOptions = {}): FloatVectors {
  const buf = readFileSync(path);
  const { dim, count, rowBytes } = header(buf, 4, path, opts.limit);
  const data = new Float32Array(count * dim);
  read4(buf, path, dim, count, rowBytes, data);
  return { dim, count, data };
}

export function readIvecs(path: string, opts: ReadOptions = {}): IntVectors {
  const buf = readFileSync(path);
  const { dim, count, rowBytes } = header(buf, 4, path, opts.limit);
  const data = new Int32Array(count * dim);
  read4(buf, path, dim, count, rowBytes, data);
  return { dim, count, data };
}

/** bvecs (uint8 components, e.g. BIGANN) widened to float32. */
export function readBvecs(path: string, opts: ReadOptions = {}): FloatVectors {
  const buf = readFileSync(path);
  const { dim, count, rowBytes } = header(buf, 1, path, opts.limit);
  const data = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    const off = i * rowBytes;
    const d = buf.readInt32LE(off);
    if (d !== dim) throw new Error(`${path}: row ${i} has dimension ${d}, expected ${dim}`);
    const o = i * dim;
    for (let j = 0; j < dim; j++) data[o + j] = buf[off + 4 + j];
  }
  return { dim, count, data };
}

/** Reads .fvecs or .bvecs by extension. */
export function readVectors(path: string, opts: ReadOptions = {}): FloatVectors {
  if (path.endsWith('.bvecs')) return readBvecs(path, opts);
  if (path.endsWith('.fvecs')) return readFvecs(path, opts);
  throw new Error(`${path}: expected a .fvecs or .bvecs file`);
}

/** Writes rows in 4-byte TEXMEX layout, streaming in chunks so 1M rows need no second full copy. */
function write4(path: string, dim: number, count: number, data: Float32Array | Int32Array): void {
  if (data.length < dim * count) throw new Error(`write ${path}: data holds ${data.length} values, need ${dim * count}`);
  const rowsPerChunk = Math.max(1, Math.floor((8 << 20) / ((dim + 1) * 4)));
  const fd = openSync(path, 'w');
  try {
    for (let start = 0; start < count; start += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, count - start);
      const words = new Int32Array(rows * (dim + 1));
      const view = data instanceof Float32Array ? new Float32Array(words.buffer) : words;
      for (let i = 0; i < rows; i++) {
        const w = i * (dim + 1);
        words[w] = dim;
        view.set(data.subarray((start + i) * dim, (start + i + 1) * dim), w + 1);
      }
      writeSync(fd, new Uint8Array(words.buffer));
    }
  } finally {
    closeSync(fd);
  }
}

export function writeFvecs(path: string, v: FloatVectors): void {
  write4(path, v.dim, v.count, v.data);
}

export function writeIvecs(path: string, v: IntVectors): void {
  write4(path, v.dim, v.count, v.data);
}
