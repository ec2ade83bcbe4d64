import { z } from 'zod';

export const candidatesRequest = z
  .object({
    namespace: z.string().min(1).default('items'),
    k: z.number().int().min(1).max(1000).default(100),
    vector: z.array(z.number().refine(Number.isFinite, 'must be finite')).min(1).max(4096).optional(),
    userId: z.string().min(1).optional(),
    filter: z
      .object({
        groups: z.array(z.string()).max(10_000).optional(),
        excludeIds: z.array(z.string()).max(100_000).optional(),
      })
      .optional(),
  })
  .refine((r) => (r.vector ? 1 : 0) + (r.userId ? 1 : 0) === 1, { message: 'give exactly one of vector or userId', path: ['vector'] });
export type CandidatesRequest = z.output<typeof candidatesRequest>;

export const rebuildRequest = z
  .object({
    kind: z.enum(['hnsw', 'spann', 'exact']).optional(),
  })
  .default({});
export type RebuildRequest = z.output<typeof rebuildRequest>;

export const candidatesRequestJsonSchema = z.toJSONSchema(candidatesRequest, { io: 'input', unrepresentable: 'any' });
export const rebuildRequestJsonSchema = z.toJSONSchema(rebuildRequest, { io: 'input', unrepresentable: 'any' });
