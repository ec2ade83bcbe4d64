import { SdimConfig, SdimHasher, encodeDelta, snapVector, toFixedPoint } from '@recsys/sdim';

/**
 * Binary item record, stored at stateKeys.item(id) (current version) and at itemVersionKey(id, v)
 * (every version, so that an evicted behaviour removes exactly the embedding it added).
 *
 *   0   u8   record format (1)
 *   1   u8   flags: bit 0 = deleted (tombstone: the embedding is kept for evictions)
 *   2   u16  d
 *   4   u32  embedding version (1, 2, ... ; bumped when the embedding changes)
 *   8   f64  updatedAt (epoch ms of the catalog change)
 *   16  u32  fingerprint of the SDIM config the cached signatures belong to
 *   20  u16  number of cached signatures (m/tau)
 *   22  u16  byte length of the group (UTF-8)
 *   24  f32 x d   embedding
 *   ..  u8 x m/tau signatures (tau <= 8)
 *   ..  group
 */
export interface ItemRecord {
  itemId: string;
  embedding: Float32Array;
  version: number;
  updatedAt: number;
  deleted: boolean;
  group: string;
  fingerprint: number;
  signatures: Uint8Array;
  /** The embedding on the tables' 2^-16 grid, computed once per decoded record (not stored). */
  snapped?: Float64Array;
  /** The snapped embedding times 2^16 (integers), what the encoded tables are patched with (not stored). */
  fixed?: Int32Array;
  /**
   * The item's SDIM tail deltas (+1 and -1, libs/sdim encodeDelta) under the hasher of `fingerprint`,
   * encoded once per decoded record (not stored): a delta depends on nothing but the item version.
   */
  deltas?: { fingerprint: number; add?: Buffer; remove?: Buffer };
}

const FORMAT = 1;
const HEADER = 24;

/** FNV-1a over the config: cached signatures are reused only under the same hash functions. */
export function configFingerprint(c: SdimConfig): number {
  let h = 0x811c9dc5;
  for (const ch of `${c.seed}/${c.m}/${c.tau}/${c.d}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function encodeItem(r: ItemRecord): Buffer {
  const d = r.embedding.length;
  const group = Buffer.from(r.group, 'utf8');
  const g = r.signatures.length;
  const buf = Buffer.alloc(HEADER + 4 * d + g + group.length);
  buf.writeUInt8(FORMAT, 0);
  buf.writeUInt8(r.deleted ? 1 : 0, 1);
  buf.writeUInt16LE(d, 2);
  buf.writeUInt32LE(r.version, 4);
  buf.writeDoubleLE(r.updatedAt, 8);
  buf.writeUInt32LE(r.fingerprint, 16);
  buf.writeUInt16LE(g, 20);
  buf.writeUInt16LE(group.length, 22);
  Buffer.from(r.embedding.buffer, r.embedding.byteOffset, 4 * d).copy(buf, HEADER);
  Buffer.from(r.signatures.buffer, r.signatures.byteOffset, g).copy(buf, HEADER + 4 * d);
  group.copy(buf, HEADER + 4 * d + g);
  return buf;
}

export function decodeItem(itemId: string, buf: Buffer): ItemRecord {
  if (buf.length < HEADER || buf.readUInt8(0) !== FORMAT) throw new Error(`item ${itemId}: unknown record format`);
  const d = buf.readUInt16LE(2);
  const g = buf.readUInt16LE(20);
  const gl = buf.readUInt16LE(22);
  if (buf.length < HEADER + 4 * d + g + gl) throw new Error(`item ${itemId}: truncated record`);
  const embedding = new Float32Array(d);
  Buffer.from(embedding.buffer).set(buf.subarray(HEADER, HEADER + 4 * d));
  return {
    itemId,
    deleted: (buf.readUInt8(1) & 1) === 1,
    version: buf.readUInt32LE(4),
    updatedAt: buf.readDoubleLE(8),
    fingerprint: buf.readUInt32LE(16),
    embedding,
    signatures: Uint8Array.from(buf.subarray(HEADER + 4 * d, HEADER + 4 * d + g)),
    group: buf.toString('utf8', HEADER + 4 * d + g, HEADER + 4 * d + g + gl),
  };
}

/** The item's signatures under `hasher`: the cached ones when the fingerprint matches. */
export function itemSignatures(r: ItemRecord, hasher: SdimHasher, fingerprint: number): ArrayLike<number> {
  if (r.fingerprint === fingerprint && r.signatures.length === hasher.groups) return r.signatures;
  return hasher.signatures(r.embedding);
}

/** The item's embedding as it enters the tables (validated and snapped once, then reused). */
export function itemSnapped(r: ItemRecord): Float64Array {
  return (r.snapped ??= snapVector(r.embedding));
}

/** The item's embedding in the tables' int32 fixed point (computed once per decoded record). */
export function itemFixed(r: ItemRecord): Int32Array {
  return (r.fixed ??= toFixedPoint(itemSnapped(r)));
}

/** The encoded tail delta adding (sign 1) or removing (-1) this item version; shared, never to be modified. */
export function itemDelta(r: ItemRecord, sign: 1 | -1, hasher: SdimHasher, fingerprint: number): Buffer {
  let c = r.deltas;
  if (!c || c.fingerprint !== fingerprint) c = r.deltas = { fingerprint };
  const op = () => ({ sign, signatures: itemSignatures(r, hasher, fingerprint), fixed: itemFixed(r) });
  return sign > 0 ? (c.add ??= encodeDelta(op(), hasher.config)) : (c.remove ??= encodeDelta(op(), hasher.config));
}

export function sameEmbedding(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
