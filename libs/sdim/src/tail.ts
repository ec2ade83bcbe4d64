import { BucketTables, SNAP_SCALE } from './bucket-tables';
import { HEADER_BYTES, decodeTables, encodeTables, hasherFor, readHeader } from './codec';
import { SdimConfig, SdimHasher, validateConfig } from './hasher';
import { sdimTablesKey, sdimTailKey } from './keys';
import { TablesOp, patchEncodedTables } from './patch';

/**
 * The delta tail of a user's tables (SPEC.md "Delta tail"). The writer does not rewrite the 33 KB
 * tables blob for every behaviour: it appends one delta per table update (+1 add, -1 evict) to a
 * hash `{u:<id>}:sdim:tail` (field = decimal sequence number, monotonic per user) and folds the
 * tail into the blob now and then. The blob records, in its reserved header word (bytes 20..23),
 * the sequence number of the last delta folded into it (0 for blobs written before the tail).
 *
 * Invariant: the tables are blob + every tail delta with seq > foldedSeq(blob), applied in seq
 * order; those seqs are exactly foldedSeq+1 .. foldedSeq+k. A reader that sees a gap (its blob is
 * older than its tail, i.e. a fold ran between its two reads) retries.
 *
 * Delta layout (little-endian): u8 version (1), i8 op (+1/-1), u8 tau, u8 reserved, u16 m, u16 d,
 * u32 seed, then m/tau u16 signatures (padded to 4 bytes), then d int32: the snapped embedding
 * times 2^16 (the writer's exact fixed-point value; the same integers patchEncodedTables adds).
 */
export const DELTA_VERSION = 1;
const DELTA_HEADER = 12;
const FOLDED_SEQ_OFFSET = 20;

export interface Delta {
  seq: number;
  op: TablesOp;
  config: SdimConfig;
}

export function encodeDelta(op: TablesOp, config: SdimConfig): Buffer {
  return encodeDeltas([op], config)[0];
}

/**
 * encodeDelta of each op (the same bytes), as views on one allocation: a writer encodes a user's
 * deltas together, and one buffer instead of one per delta halves the garbage of a batch's tails.
 */
export function encodeDeltas(ops: readonly TablesOp[], config: SdimConfig): Buffer[] {
  if (!ops.length) return [];
  const groups = ops[0].signatures.length;
  const sigBytes = Math.ceil((2 * groups) / 4) * 4;
  const size = DELTA_HEADER + sigBytes + 4 * ops[0].fixed.length;
  const all = Buffer.allocUnsafe(size * ops.length);
  return ops.map((op, i) => {
    if (op.signatures.length !== groups || DELTA_HEADER + sigBytes + 4 * op.fixed.length !== size) throw new RangeError('SDIM tail deltas of one call must have the same shape');
    const buf = all.subarray(i * size, (i + 1) * size);
    buf.fill(0, 0, DELTA_HEADER + sigBytes);
    buf.writeUInt8(DELTA_VERSION, 0);
    buf.writeInt8(op.sign, 1);
    buf.writeUInt8(config.tau, 2);
    buf.writeUInt16LE(config.m, 4);
    buf.writeUInt16LE(config.d, 6);
    buf.writeUInt32LE(config.seed >>> 0, 8);
    for (let g = 0; g < groups; g++) buf.writeUInt16LE(op.signatures[g], DELTA_HEADER + 2 * g);
    const o = DELTA_HEADER + sigBytes;
    for (let k = 0; k < op.fixed.length; k++) buf.writeInt32LE(op.fixed[k], o + 4 * k);
    return buf;
  });
}

export function decodeDelta(seq: number, buf: Buffer): Delta {
  if (buf.length < DELTA_HEADER || buf.readUInt8(0) !== DELTA_VERSION) throw new Error(`SDIM tail delta ${seq}: unknown format`);
  const sign = buf.readInt8(1);
  if (sign !== 1 && sign !== -1) throw new Error(`SDIM tail delta ${seq}: op ${sign} is not +1 or -1`);
  const config: SdimConfig = { tau: buf.readUInt8(2), m: buf.readUInt16LE(4), d: buf.readUInt16LE(6), seed: buf.readUInt32LE(8) };
  validateConfig(config);
  const groups = config.m / config.tau;
  const sigBytes = Math.ceil((2 * groups) / 4) * 4;
  if (buf.length !== DELTA_HEADER + sigBytes + 4 * config.d) throw new Error(`SDIM tail delta ${seq}: ${buf.length} bytes, expected ${DELTA_HEADER + sigBytes + 4 * config.d}`);
  const signatures = new Uint16Array(groups);
  for (let g = 0; g < groups; g++) signatures[g] = buf.readUInt16LE(DELTA_HEADER + 2 * g);
  const fixed = new Int32Array(config.d);
  const o = DELTA_HEADER + sigBytes;
  for (let k = 0; k < config.d; k++) fixed[k] = buf.readInt32LE(o + 4 * k);
  return { seq, op: { sign, signatures, fixed }, config };
}

/** Sequence number of the last delta folded into the blob (0: none, or a blob older than the tail). */
export function foldedSeq(blob: Uint8Array): number {
  readHeader(blob);
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).readUInt32LE(FOLDED_SEQ_OFFSET);
}

/** Stamps `seq` as the blob's folded sequence number (in place; returns the blob). */
export function withFoldedSeq(blob: Buffer, seq: number): Buffer {
  if (blob.length < HEADER_BYTES) throw new Error('not an SDIM tables blob');
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) throw new RangeError(`folded seq ${seq} out of range`);
  blob.writeUInt32LE(seq, FOLDED_SEQ_OFFSET);
  return blob;
}

/**
 * `ops` applied in order to `blob` (null = empty tables), in the writer's int32 fixed-point
 * arithmetic: patchEncodedTables, or (a float64 blob, or a sum leaving int32) decode, apply with
 * BucketTables and encode with dtype 'auto'. Both are exact; the folded seq is NOT carried over.
 */
export function applyOps(blob: Uint8Array | null, hasher: SdimHasher, ops: readonly TablesOp[], options: { inPlace?: boolean } = {}): Buffer {
  const fast = patchEncodedTables(blob, hasher, ops, options);
  if (fast) return fast;
  const t = blob && blob.length ? decodeTables(blob, hasher) : new BucketTables(hasher);
  for (const op of ops) {
    const snapped = Float64Array.from(op.fixed, (v) => v / SNAP_SCALE);
    if (op.sign > 0) t.addSnapped(snapped, op.signatures);
    else t.removeSnapped(snapped, op.signatures);
  }
  return encodeTables(t, { dtype: 'auto' });
}

/** A tail read together with a blob that is older than it (a fold ran between the two reads). */
export class TailGapError extends Error {
  constructor(
    readonly folded: number,
    readonly firstSeq: number,
  ) {
    super(`SDIM tail starts at seq ${firstSeq}, the blob folds up to ${folded}: blob and tail come from different moments`);
  }
}

/** The tail's deltas with seq > `after`, in seq order; throws TailGapError unless they are after+1, after+2, ... */
export function pendingDeltas(tail: Record<string, Buffer>, after: number): Delta[] {
  const seqs: number[] = [];
  for (const f of Object.keys(tail)) {
    const s = Number(f);
    if (!Number.isInteger(s) || s <= 0) throw new Error(`SDIM tail field '${f}' is not a sequence number`);
    if (s > after) seqs.push(s);
  }
  seqs.sort((a, b) => a - b);
  seqs.forEach((s, i) => {
    if (s !== after + 1 + i) throw new TailGapError(after, s);
  });
  return seqs.map((s) => decodeDelta(s, tail[String(s)]));
}

/**
 * The user's current tables as one encoded blob: `blob` with the pending tail deltas applied and
 * stamped as folded up to the last of them. Byte for byte what the writer stores when it folds
 * the same deltas (tail.spec.ts). Null when there is neither a blob nor a pending delta.
 */
export function readTables(blob: Buffer | null, tail: Record<string, Buffer>, hasher?: SdimHasher): Buffer | null {
  const after = blob && blob.length ? foldedSeq(blob) : 0;
  const deltas = pendingDeltas(tail, after);
  if (!deltas.length) return blob && blob.length ? blob : null;
  const h = hasher ?? (blob && blob.length ? hasherFor(readHeader(blob).config) : hasherFor(deltas[0].config));
  const out = applyOps(
    blob,
    h,
    deltas.map((x) => x.op),
  );
  return withFoldedSeq(out, deltas[deltas.length - 1].seq);
}

/** What readUserTables needs of a state store (libs/infra StateStore satisfies it). */
export interface TablesSource {
  get(key: string): Promise<Buffer | null>;
  hgetall(key: string): Promise<Record<string, Buffer>>;
}

/**
 * Reads blob and tail in one round trip (both commands are sent before either reply) and returns
 * readTables(). The tail is requested first: on one connection Redis answers in order, so the
 * blob is at least as new as the tail and a fold in between only makes some tail entries
 * redundant (skipped by seq). A gap (another connection's order) is retried.
 */
export async function readUserTables(store: TablesSource, userId: string, hasher?: SdimHasher, attempts = 5): Promise<Buffer | null> {
  for (let i = 1; ; i++) {
    const [tail, blob] = await Promise.all([store.hgetall(sdimTailKey(userId)), store.get(sdimTablesKey(userId))]);
    try {
      return readTables(blob, tail, hasher);
    } catch (e) {
      if (!(e instanceof TailGapError) || i >= attempts) throw e;
    }
  }
}

/** What seedUserTables needs of a state store (libs/infra StateStore satisfies it). */
export interface TablesSink {
  set(key: string, value: Buffer): Promise<unknown>;
  del(...keys: string[]): Promise<unknown>;
}

/**
 * Stores `tables` as a user's whole SDIM state (blob, folded seq 0, no tail): for tests and
 * benchmarks that seed users no behavior writer owns. Not for a user the behavior service writes
 * (its head counts tail seqs; it would see the lost deltas at its next fold and rebuild the user).
 */
export async function seedUserTables(store: TablesSink, userId: string, tables: BucketTables): Promise<void> {
  await store.del(sdimTailKey(userId));
  await store.set(sdimTablesKey(userId), encodeTables(tables));
}
