import { z } from 'zod';
import { EMBEDDING_MAX_DIM, EMBEDDING_MAX_NORM } from '@recsys/contracts';
import { DEFAULT_NORMALIZATION, NORMALIZATIONS, type Normalization } from '@recsys/sdim';

const userId = z
  .string()
  .min(1)
  .max(200)
  .meta({ examples: ['demo-user-0'] });
export const userParams = z.strictObject({ id: userId });

/** Candidate vectors: coordinates within ±EMBEDDING_MAX_NORM; the norm bound is checked by the controller. */
const vector = z.array(z.number().min(-EMBEDDING_MAX_NORM).max(EMBEDDING_MAX_NORM)).min(1).max(EMBEDDING_MAX_DIM);
const normalize = z
  .enum(NORMALIZATIONS as [Normalization, ...Normalization[]])
  .optional()
  .describe(`SDIM normalisation (libs/sdim SPEC.md section 4); default '${DEFAULT_NORMALIZATION}', 'l2' is the paper's`);

/** Exactly one of `itemIds` (catalog items) or `vectors` (of the suite's embedding dimension). */
export const interestRequest = z.xor([
  z.strictObject({
    itemIds: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(2000)
      .meta({ examples: [['item-1', 'item-2']] }),
    normalize,
  }),
  z.strictObject({ vectors: z.array(vector).min(1).max(2000), normalize }),
]);
/** The parsed request, one type for both branches (the service reads whichever is set). */
export type InterestRequest = { itemIds?: string[]; vectors?: number[][]; normalize?: Normalization };

export const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe('newest behaviours to return'),
});

export const historyResponse = z.strictObject({
  userId: z.string(),
  total: z.number().int().describe('behaviours held for the user (at most BEHAVIOR_HISTORY_CAP)'),
  items: z.array(z.strictObject({ eventId: z.string(), itemId: z.string(), type: z.string(), ts: z.number().describe('event time, epoch ms') })),
});

export const embeddingResponse = z.strictObject({
  userId: z.string(),
  dim: z.number().int(),
  vector: z.array(z.number()),
  count: z.number().int().describe('behaviours it summarises'),
  newestTs: z.number(),
});

export const interestResponse = z.strictObject({
  userId: z.string(),
  interests: z.array(
    z.strictObject({
      itemId: z.string().optional().describe('with itemIds'),
      index: z.number().int().optional().describe('with vectors: the position in the request'),
      vector: z.array(z.number()),
    }),
  ),
});
