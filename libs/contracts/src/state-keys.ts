/**
 * State-store key layout shared between services (the behavior service writes, retrieval and
 * ranking read). `{u:<id>}` is a Redis Cluster hash tag: every key of one user lives in one slot,
 * so a user's writes can go in one transaction.
 */
export const stateKeys = {
  userTag: (userId: string) => `{u:${userId}}`,
  /** Float32 little-endian vector: the user's embedding for retrieval. */
  userEmbedding: (userId: string) => `{u:${userId}}:emb`,
  /** SDIM bucket tables (libs/sdim codec). */
  userSdimTables: (userId: string) => `{u:${userId}}:sdim`,
  /** SDIM delta tail (libs/sdim tail.ts): hash of seq -> delta not yet folded into userSdimTables. */
  userSdimTail: (userId: string) => `{u:${userId}}:sdim:tail`,
  /** Behaviour history head blob; segments live at `<this>:<n>` (apps/behavior/src/domain/history.ts). */
  userHistory: (userId: string) => `{u:${userId}}:hist`,
  /** Item embedding + group as known to the behavior service. */
  item: (itemId: string) => `item:${itemId}`,
};

export function encodeFloat32(v: ArrayLike<number>): Buffer {
  const f = Float32Array.from(v as ArrayLike<number>);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

export function decodeFloat32(b: Buffer): Float32Array {
  // Copy: a Buffer from a pool may not be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  Buffer.from(out.buffer).set(b.subarray(0, out.byteLength));
  return out;
}
