import { stateKeys } from '@recsys/contracts/state-keys';

/**
 * Keys of the behavior service. All of a user's keys carry the {u:<userId>} hash tag (one Redis
 * Cluster slot, one MULTI per user). Items are global keys.
 */
export const behaviorKeys = {
  /** SDIM tables (libs/sdim codec, int32 fixed point; folded seq in the header): what ranking reads. Equals libs/sdim sdimTablesKey(). */
  tables: stateKeys.userSdimTables,
  /** SDIM delta tail (libs/sdim tail.ts): deltas not yet folded into `tables`. Equals libs/sdim sdimTailKey(). */
  tail: stateKeys.userSdimTail,
  /** Float32 LE vector: the recency-weighted mean embedding retrieval reads. */
  embedding: stateKeys.userEmbedding,
  /** History head: segment list and embedding accumulators (history.ts). */
  head: stateKeys.userHistory,
  /** One history segment. */
  segment: (userId: string, segId: number) => `${stateKeys.userHistory(userId)}:${segId}`,
  /** Current item record (item-record.ts). */
  item: stateKeys.item,
  /** Item record of one embedding version, kept so an eviction removes exactly what was added. */
  itemVersion: (itemId: string, version: number) => `itemv:${version}:${itemId}`,
};
