import { z } from 'zod';

export const decideRequest = z.strictObject({
  userId: z.string().min(1).max(200),
  surface: z.string().min(1).max(100),
  sessionFetchIndex: z.number().int().min(0).max(100_000),
  /** The feed fetch's request id (feed.feedback / ads.events join on it); default the decision id. */
  requestId: z.string().min(1).max(200).optional(),
  context: z
    .strictObject({
      segment: z.string().min(1).max(100).optional(),
      adTolerance: z.number().min(0).max(1).optional(),
      hour: z.number().int().min(0).max(23).optional(),
    })
    .optional(),
  /** An experiment variant's ad-load policy: decide with this policy id instead of the surface's live policy (404 policy_not_found when unknown). */
  policyId: z.string().min(1).max(200).optional().describe("decide with this policy instead of the surface's live one (an experiment variant's override)"),
});
export type DecideRequest = z.output<typeof decideRequest>;

export const decideResponse = z.object({
  decisionId: z.string(),
  requestId: z.string(),
  policyId: z.string(),
  policyVersion: z.number().int(),
  adSlots: z.number().int(),
  positions: z.array(z.number().int()),
  propensity: z.number(),
});

export const policyResponse = z.object({
  policyId: z.string(),
  surface: z.string(),
  version: z.number().int(),
  status: z.enum(['live', 'staged', 'retired', 'superseded']),
  reportId: z.string().optional(),
  createdAt: z.string(),
  promotedAt: z.string().optional(),
  retiredAt: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
});
export const policiesResponse = z.object({ policies: z.array(policyResponse) });

export const learnRequest = z.strictObject({ surface: z.string().min(1).max(100) });
export const learnResponse = z.object({
  surface: z.string(),
  rounds: z.number().int(),
  reportId: z.string().nullable(),
  staged: z.object({ policyId: z.string(), version: z.number().int(), status: z.string() }).nullable(),
  promotable: z.boolean().optional(),
  promoted: z.boolean().optional(),
  reason: z.string(),
});

export const idParams = z.object({ id: z.string().min(1).max(200) });
export const reportQuery = z.object({ format: z.enum(['json', 'svg']).default('json') });
export const reportResponse = z.object({ reportId: z.string(), surface: z.string(), createdAt: z.string(), body: z.record(z.string(), z.unknown()) });
