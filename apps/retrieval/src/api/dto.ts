import { z } from 'zod';
import { EMBEDDING_MAX_DIM, EMBEDDING_MAX_NORM } from '@recsys/contracts';

/**
 * A query vector as the HTTP API documents it: every coordinate within ±EMBEDDING_MAX_NORM (a
 * vector with a larger coordinate cannot have a valid norm). The norm bound itself, which JSON
 * Schema cannot express, is checked by the controller (422 vector_norm_too_large).
 */
export const queryVector = z.array(z.number().min(-EMBEDDING_MAX_NORM).max(EMBEDDING_MAX_NORM)).min(1).max(EMBEDDING_MAX_DIM);

const candidatesCommon = {
  namespace: z.string().min(1).max(200).default('items'),
  k: z.number().int().min(1).max(1000).default(100),
  filter: z
    .strictObject({
      groups: z.array(z.string()).max(10_000).optional().describe('only items of one of these groups'),
      excludeIds: z.array(z.string()).max(100_000).optional().describe('never these items'),
    })
    .optional(),
};

/** Exactly one of `vector` (a query vector) or `userId` (the user's embedding from the behavior service). */
const exampleVector = Array.from({ length: 32 }, (_, i) => Math.round(Math.sin(i + 1) * 1e3) / 1e4);
export const candidatesRequest = z.xor([
  z.strictObject({ ...candidatesCommon, vector: queryVector }).meta({ examples: [{ namespace: 'items', k: 10, vector: exampleVector }] }),
  z.strictObject({ ...candidatesCommon, userId: z.string().min(1).max(200) }).meta({ examples: [{ namespace: 'items', k: 10, userId: 'demo-user-0', filter: { excludeIds: ['item-1'] } }] }),
]);
/** The parsed request, one type for both branches (the service reads whichever is set). */
export type CandidatesRequest = z.output<z.ZodObject<typeof candidatesCommon>> & { vector?: number[]; userId?: string };

export const candidatesResponse = z.array(z.strictObject({ itemId: z.string(), score: z.number().describe('similarity: higher is nearer (cosine / inner product, or -l2 distance)') }));

export const rebuildRequest = z
  .strictObject({
    kind: z.enum(['hnsw', 'spann', 'exact']).optional().describe('index kind after the rebuild; default the current one'),
  })
  .default({});
export type RebuildRequest = z.output<typeof rebuildRequest>;

export const namespaceParams = z.strictObject({ namespace: z.string().min(1).max(200) });
export const jobParams = z.strictObject({ id: z.string().min(1).max(200) });

const offsets = z.record(z.string(), z.record(z.string(), z.string())).describe('topic -> partition -> last applied offset');

export const indexesResponse = z.strictObject({
  lastSnapshotAt: z.number().nullable(),
  lastAppliedOffsets: offsets,
  indexes: z.array(
    z.strictObject({
      namespace: z.string(),
      kind: z.enum(['hnsw', 'spann', 'exact']),
      dim: z.number().int(),
      metric: z.enum(['cosine', 'ip', 'l2']),
      size: z.number().int(),
      memoryBytes: z.number().int(),
      params: z.record(z.string(), z.unknown()),
      upserts: z.number().int(),
      deletes: z.number().int(),
      updatedAt: z.number().nullable(),
      lastAppliedOffsets: offsets,
    }),
  ),
});

export const jobResponse = z.strictObject({
  id: z.string(),
  queue: z.string(),
  state: z.enum(['waiting', 'active', 'completed', 'failed']),
  progress: z.number(),
  data: z.unknown(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  createdAt: z.number(),
  finishedAt: z.number().optional(),
});
