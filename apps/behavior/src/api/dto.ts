import { z } from 'zod';
import { DEFAULT_NORMALIZATION, NORMALIZATIONS, type Normalization } from '@recsys/sdim';

export const interestRequest = z
  .object({
    itemIds: z.array(z.string().min(1)).min(1).max(2000).optional(),
    vectors: z.array(z.array(z.number().refine(Number.isFinite, 'must be finite')).min(1)).min(1).max(2000).optional(),
    normalize: z
      .enum(NORMALIZATIONS as [Normalization, ...Normalization[]])
      .optional()
      .describe(`SDIM normalisation (libs/sdim SPEC.md section 4); default '${DEFAULT_NORMALIZATION}', 'l2' is the paper's`),
  })
  .refine((r) => (r.itemIds ? 1 : 0) + (r.vectors ? 1 : 0) === 1, { message: 'give exactly one of itemIds or vectors', path: ['itemIds'] });
export type InterestRequest = z.output<typeof interestRequest>;
export const interestRequestJsonSchema = z.toJSONSchema(interestRequest, { io: 'input', unrepresentable: 'any' });
