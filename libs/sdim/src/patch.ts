import { MAX_BUCKET_COUNT, SNAP_SCALE } from './bucket-tables';
import { FORMAT_VERSION, HEADER_BYTES, MAGIC, readHeader, sameConfig, tablesLayout } from './codec';
import type { SdimHasher } from './hasher';

/**
 * Incremental update of an encoded tables blob (codec.ts, int32 fixed point) without decoding it:
 * a behaviour touches one bucket per signature group, so adding or removing it reads and rewrites
 * m/tau rows and copies the rest of the blob as a few contiguous byte ranges. This is what the
 * behaviour writer does for every user of a batch; decodeTables + BucketTables + encodeTables
 * (a dense float64 copy of every bucket, then a re-encode) cost ten times more per user.
 */

/** One behaviour to add (sign 1) or remove (sign -1): its signatures and its embedding in fixed point. */
export interface TablesOp {
  sign: 1 | -1;
  /** m/tau signatures, as from SdimHasher.signatures. */
  signatures: ArrayLike<number>;
  /** The snapped embedding times 2^16 (toFixedPoint): exact integers. */
  fixed: Int32Array;
}

const I32_LIMIT = 2 ** 31;

/** Reused between calls (each call is synchronous): a fresh large Float64Array per call costs an off-heap allocation. */
let scratch = new Float64Array(0);

/**
 * A snapped embedding (snapVector) as integers on the 2^-16 grid. Exact: every snapped component
 * is k * 2^-16 with |k| <= 2^26.
 */
export function toFixedPoint(snapped: ArrayLike<number>): Int32Array {
  const out = new Int32Array(snapped.length);
  for (let k = 0; k < snapped.length; k++) {
    const v = snapped[k] * SNAP_SCALE;
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 26) throw new RangeError(`component ${k} (${snapped[k]}) is not a snapped value (snapVector)`);
    out[k] = v;
  }
  return out;
}

/**
 * Applies `ops` in order to `blob` (null = empty tables) and returns the new blob: byte for byte
 * what encodeTables(tables after the ops, { dtype: 'auto' }) returns, when that encoding is int32.
 * Returns null when it is not: the blob is not int32 (a float64 or float32 blob), or a touched sum
 * leaves the int32 range; the caller then decodes, applies with BucketTables and encodes.
 * Semantics per op equal BucketTables.addSnapped / removeSnapped, errors included: removing from
 * an empty bucket or adding to a full one throws RangeError, and a bucket whose count returns to
 * 0 is dropped whatever its sums.
 *
 * The input blob is not modified, unless `inPlace` is set: then, when no bucket appears or
 * disappears and the blob is 4-byte aligned, the touched rows are rewritten in the blob itself and
 * the blob is returned (no allocation: a writer patching the copy it keeps of each user's tables).
 * Nothing is modified when the call throws or returns null.
 */
export function patchEncodedTables(blob: Uint8Array | null, hasher: SdimHasher, ops: readonly TablesOp[], options: { inPlace?: boolean } = {}): Buffer | null {
  const d = hasher.config.d;
  const groups = hasher.groups;
  const buckets = hasher.buckets;
  const total = groups * buckets;
  const src = blob && blob.length ? (Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)) : null;
  let n = 0;
  let countsOff = 0;
  let sumsOff = 0;
  if (src) {
    const h = readHeader(src);
    if (!sameConfig(h.config, hasher.config)) throw new Error(`SDIM tables were built with ${JSON.stringify(h.config)}, hasher has ${JSON.stringify(hasher.config)}`);
    if (h.dtype !== 'i32') return null;
    n = h.nonEmpty;
    countsOff = h.countsOffset;
    sumsOff = h.sumsOffset;
  }
  // Aligned typed views on the blob when possible (a Redis reply may sit at any offset of a socket buffer).
  const aligned = src !== null && (src.byteOffset & 3) === 0;
  const countsIn = aligned ? new Uint32Array(src.buffer, src.byteOffset + countsOff, n) : null;
  // Position of every bucket in the blob (-1: empty).
  const oldPos = new Int32Array(total).fill(-1);
  for (let i = 0; i < n; i++) {
    const b = src!.readUInt16LE(HEADER_BYTES + 2 * i);
    if (b >= total) throw new Error(`bucket index ${b} out of range`);
    oldPos[b] = i;
  }

  // The touched buckets: running count, and the change of the sums since the start (or since the
  // count last returned to 0, which drops the bucket's sums: `reset`). Sums are integers below
  // 2^53 in magnitude, so float64 adds them exactly.
  const slot = new Int32Array(total).fill(-1);
  const touched: number[] = [];
  const counts: number[] = [];
  const reset: boolean[] = [];
  const need = Math.min(total, groups * ops.length) * d;
  if (scratch.length < need) scratch = new Float64Array(Math.max(need, 2 * scratch.length));
  const delta = scratch;
  for (const op of ops) {
    const sigs = op.signatures;
    if (sigs.length !== groups) throw new RangeError(`expected ${groups} signatures, got ${sigs.length}`);
    if (op.fixed.length !== d) throw new RangeError(`vector has dimension ${op.fixed.length}, expected ${d}`);
    // Validate every touched bucket before changing any (as BucketTables does).
    for (let j = 0; j < groups; j++) {
      const c = sigs[j];
      if (!(c >= 0 && c < buckets && (c | 0) === c)) throw new RangeError(`signature ${j} is ${c}`);
      const b = j * buckets + c;
      let s = slot[b];
      if (s < 0) {
        s = slot[b] = touched.length;
        touched.push(b);
        delta.fill(0, s * d, (s + 1) * d);
        const p = oldPos[b];
        counts.push(p < 0 ? 0 : countsIn ? countsIn[p] : src!.readUInt32LE(countsOff + 4 * p));
        reset.push(false);
      }
      const count = counts[s];
      if (op.sign < 0 ? count === 0 : count >= MAX_BUCKET_COUNT) {
        throw new RangeError(op.sign < 0 ? `remove from an empty bucket (group ${j}, signature ${c}): behaviour was not added` : `bucket holds ${count} behaviours, the maximum`);
      }
    }
    const x = op.fixed;
    for (let j = 0; j < groups; j++) {
      const s = slot[j * buckets + sigs[j]];
      const base = s * d;
      if ((counts[s] += op.sign) === 0) {
        delta.fill(0, base, base + d);
        reset[s] = true;
      } else addInto(delta, base, x, d, op.sign);
    }
  }

  let m = n;
  let changed = false;
  for (let s = 0; s < touched.length; s++) {
    const was = oldPos[touched[s]] >= 0;
    if (counts[s] > 0 && !was) m++;
    else if (counts[s] === 0 && was) m--;
    else continue;
    changed = true;
  }
  if (options.inPlace && aligned && !changed) return patchRows(src!, countsIn!, new Int32Array(src!.buffer, src!.byteOffset + sumsOff, n * d), d, touched, counts, reset, delta, oldPos);
  const lay = tablesLayout(m, d, 'i32');
  // Not pooled: its own ArrayBuffer at offset 0, so the typed views below are aligned. Every byte
  // is written below (header, copied runs, touched rows, zeroed padding).
  const out = Buffer.allocUnsafeSlow(lay.byteLength);
  if (src) src.copy(out, 0, 0, HEADER_BYTES);
  else {
    out.fill(0, 0, HEADER_BYTES);
    out.writeUInt32LE(MAGIC, 0);
    out.writeUInt8(FORMAT_VERSION, 4);
    out.writeUInt8(3, 5); // int32 fixed point
    out.writeUInt8(hasher.config.tau, 6);
    out.writeUInt16LE(hasher.config.m, 8);
    out.writeUInt16LE(d, 10);
    out.writeUInt32LE(hasher.config.seed, 12);
  }
  out.writeUInt32LE(m, 16);
  out.fill(0, HEADER_BYTES + 2 * m, lay.countsOffset);
  out.fill(0, lay.countsOffset + 4 * m, lay.sumsOffset);
  const idxOut = new Uint16Array(out.buffer, HEADER_BYTES, m);
  const countsOut = new Uint32Array(out.buffer, lay.countsOffset, m);
  const sumsOut = new Int32Array(out.buffer, lay.sumsOffset, m * d);

  // Copy runs of kept rows (consecutive in both blobs, touched ones included) with one memcpy per
  // section; a run breaks only where a bucket appears or disappears. Then the touched rows.
  let runOld = 0;
  let runNew = 0;
  let runLen = 0;
  const flush = () => {
    if (runLen === 0) return;
    src!.copy(out, HEADER_BYTES + 2 * runNew, HEADER_BYTES + 2 * runOld, HEADER_BYTES + 2 * (runOld + runLen));
    src!.copy(out, lay.countsOffset + 4 * runNew, countsOff + 4 * runOld, countsOff + 4 * (runOld + runLen));
    src!.copy(out, lay.sumsOffset + 4 * d * runNew, sumsOff + 4 * d * runOld, sumsOff + 4 * d * (runOld + runLen));
    runLen = 0;
  };
  const position = new Int32Array(touched.length);
  let i = 0;
  for (let b = 0; b < total; b++) {
    const s = slot[b];
    const p = oldPos[b];
    if (s >= 0) position[s] = i;
    if (s >= 0 ? counts[s] === 0 : p < 0) {
      if (p >= 0) flush();
      continue;
    }
    if (p >= 0 && runLen > 0 && runOld + runLen === p) runLen++;
    else {
      flush();
      if (p >= 0) {
        runOld = p;
        runNew = i;
        runLen = 1;
      }
    }
    i++;
  }
  flush();
  for (let s = 0; s < touched.length; s++) {
    if (counts[s] === 0) continue;
    const at = position[s];
    idxOut[at] = touched[s];
    countsOut[at] = counts[s];
    // A kept row was copied with its run: add the change; a new or reset row is the change itself.
    const keep = oldPos[touched[s]] >= 0 && !reset[s];
    const o = at * d;
    const base = s * d;
    for (let k = 0; k < d; k++) {
      const v = (keep ? sumsOut[o + k] : 0) + delta[base + k];
      // encodeTables('auto') writes int32 only when every sum fits; untouched rows already do.
      if (!(v < I32_LIMIT && v >= -I32_LIMIT)) return null;
      sumsOut[o + k] = v;
    }
  }
  return out;
}

/**
 * delta[base + k] += sign * x[k] for k < d: the inner loop of every fold (m/tau rows of d per
 * behaviour), unrolled by 4 (about 40% faster in V8 than the plain loop). Exact: integers below 2^53.
 */
function addInto(delta: Float64Array, base: number, x: Int32Array, d: number, sign: 1 | -1): void {
  const end = d - (d % 4);
  let k = 0;
  if (sign > 0) {
    for (; k < end; k += 4) {
      const i = base + k;
      delta[i] += x[k];
      delta[i + 1] += x[k + 1];
      delta[i + 2] += x[k + 2];
      delta[i + 3] += x[k + 3];
    }
    for (; k < d; k++) delta[base + k] += x[k];
  } else {
    for (; k < end; k += 4) {
      const i = base + k;
      delta[i] -= x[k];
      delta[i + 1] -= x[k + 1];
      delta[i + 2] -= x[k + 2];
      delta[i + 3] -= x[k + 3];
    }
    for (; k < d; k++) delta[base + k] -= x[k];
  }
}

/** The in-place case of patchEncodedTables: same set of buckets, rows rewritten after every range check passed. */
function patchRows(
  blob: Buffer,
  countsIn: Uint32Array,
  sums: Int32Array,
  d: number,
  touched: readonly number[],
  counts: readonly number[],
  reset: readonly boolean[],
  delta: Float64Array,
  oldPos: Int32Array,
): Buffer | null {
  for (let s = 0; s < touched.length; s++) {
    const o = oldPos[touched[s]] * d;
    const base = s * d;
    const keep = !reset[s];
    for (let k = 0; k < d; k++) {
      const v = (keep ? sums[o + k] : 0) + delta[base + k];
      if (!(v < I32_LIMIT && v >= -I32_LIMIT)) return null;
    }
  }
  for (let s = 0; s < touched.length; s++) {
    const p = oldPos[touched[s]];
    const o = p * d;
    const base = s * d;
    const keep = !reset[s];
    countsIn[p] = counts[s];
    for (let k = 0; k < d; k++) sums[o + k] = (keep ? sums[o + k] : 0) + delta[base + k];
  }
  return blob;
}
