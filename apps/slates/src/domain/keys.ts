/**
 * State-store key layout of the slates service. Every key carries the Redis Cluster hash tag
 * `{slates}`: they live in one slot, so a batch's reads are one MGET and its writes one MULTI/EXEC
 * (the learner is a single writer; posteriors are small: ~100 bytes per item).
 */
export const slatesKeys = {
  slope: () => '{slates}:post:slope',
  group: (group: string) => `{slates}:post:g:${group}`,
  item: (itemId: string) => `{slates}:post:i:${itemId}`,
  /** PBM examination estimate (JSON) */
  positionBias: () => '{slates}:pbm',
  /** per (item, position) impression and click counts for the EM, fields `<position>|<itemId>` */
  pbmImpressions: () => '{slates}:pbm:imps',
  pbmClicks: () => '{slates}:pbm:clicks',
  /** join record of one request: impression items, early clicks, outcomes, applied event ids */
  request: (requestId: string) => `{slates}:req:${requestId}`,
  /** requests waiting for their feedback window to close: requestId -> deadline (ms) */
  pending: () => '{slates}:pending',
};

/** Items without a group share this one. */
export const NO_GROUP = '_';
