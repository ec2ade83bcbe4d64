/**
 * State-store keys shared by the writer (apps/behavior) and the readers (ranking).
 * Every key of one user carries the Redis Cluster hash tag {u:<userId>}, so all of a user's keys
 * live in one slot and can be written in one MULTI.
 */
export function userTag(userId: string): string {
  return `{u:${userId}}`;
}

/** The user's SDIM bucket tables, encoded with encodeTables (float64, format in codec.ts). */
export function sdimTablesKey(userId: string): string {
  return `${userTag(userId)}:sdim`;
}

/** The user's SDIM delta tail: a hash, field = decimal seq, value = encodeDelta() (tail.ts). */
export function sdimTailKey(userId: string): string {
  return `${userTag(userId)}:sdim:tail`;
}
