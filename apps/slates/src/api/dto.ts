import { z } from 'zod';
import { POLICY_IDS } from '@recsys/bandits';

const id = z.string().min(1).max(200);

export const slateRequest = z
  .object({
    userId: id,
    size: z.number().int().min(1).max(100),
    candidates: z
      .array(
        z.strictObject({
          itemId: id,
          /** the ranker's pCTR, in [0, 1] */
          score: z.number().min(0).max(1),
          group: z.string().min(1).max(200).optional(),
        }),
      )
      .min(1)
      .max(5000),
    policy: z.enum(POLICY_IDS).default('in-slate-ts'),
    /** seeds the slate and its Monte Carlo propensities (deterministic under a seed); random when absent */
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Monte Carlo draws for the propensities */
    draws: z.number().int().min(1).max(10_000).default(200),
    /** most items of one group in the slate */
    groupCap: z.number().int().min(1).max(100).optional(),
    /** posterior family: the hierarchical logistic correction (default) or Beta-Bernoulli */
    model: z.enum(['logistic', 'beta']).default('logistic'),
    epsilon: z.number().min(0).max(1).default(0.1),
    /** Thompson policies: exploration scale of the posterior draws (mean + explore x sd); default the value tuned on the validation simulations */
    explore: z.number().min(0).max(4).optional(),
  })
  .strict();
export type SlateRequest = z.output<typeof slateRequest>;

export const posteriorParams = z.strictObject({ itemId: id });

const effect = z.object({ mean: z.number(), sd: z.number(), clicks: z.number(), exposures: z.number() });

export const slateResponse = z.object({
  requestId: z.string(),
  policyId: z.string(),
  slate: z.array(
    z.object({
      itemId: z.string(),
      position: z.number().int().describe('0-based slot'),
      propensity: z.number().describe('P(this item at this slot) under the policy'),
      inclusionPropensity: z.number().describe('P(this item anywhere in the slate) under the policy'),
      sampledScore: z.number().describe('P(click | examined) the item was placed with (a posterior draw for Thompson policies)'),
    }),
  ),
  propensityMethod: z.enum(['exact', 'monte-carlo']),
  draws: z.number().int(),
  seed: z.number().int(),
});

export const posteriorResponse = z.object({
  itemId: z.string(),
  group: z.string(),
  observed: z.boolean().describe('false: a cold item, answered from its group prior'),
  item: effect.describe('d_item: deviation of the item from its group, logit scale'),
  groupEffect: effect.describe('b_group, logit scale'),
  slope: effect.describe('a: the slope on logit(pCTR)'),
  beta: z.object({ alpha: z.number(), beta: z.number() }).describe('the Beta-Bernoulli option for this item'),
  updatedAt: z.number().nullable(),
});

export const positionBiasResponse = z.object({
  model: z.enum(['pbm', 'cascade']),
  examination: z.array(z.number()).describe('relative examination probability per 0-based position (position 0 = 1)'),
  source: z.enum(['default', 'em']),
  impressions: z.array(z.number()),
  clicks: z.array(z.number()),
  iterations: z.number().int(),
  updatedAt: z.number().nullable(),
});

const json = (s: z.ZodType, io: 'input' | 'output' = 'input') => z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
export const schemas = {
  slateRequest: json(slateRequest),
  slateResponse: json(slateResponse, 'output'),
  posteriorResponse: json(posteriorResponse, 'output'),
  positionBiasResponse: json(positionBiasResponse, 'output'),
};
