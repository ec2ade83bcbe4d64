import { z } from 'zod';
import { METRICS } from '@recsys/experiments';

export const experimentKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'lowercase letters, digits, . _ -')
  .meta({ examples: ['ranking-v2'] });
export const keyParams = z.strictObject({ key: experimentKey });

const overrideValue = z.union([z.string().max(1000), z.number(), z.boolean(), z.null(), z.array(z.union([z.string().max(200), z.number()])).max(100), z.record(z.string(), z.unknown())]);
/** Config keys the feed reads: rankingModelVersion, slatePolicy, adLoadPolicy, retrievalKind, limits... */
export const overrides = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,99}$/), overrideValue).default({});

export const variantInput = z.strictObject({
  key: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  weight: z.number().positive().max(1000),
  overrides,
});

export const targeting = z
  .strictObject({
    surfaces: z.array(z.string().min(1).max(100)).max(50).optional(),
    domains: z.array(z.string().min(1).max(100)).max(50).optional(),
    attributes: z
      .record(
        z.string().min(1).max(100),
        z
          .array(z.union([z.string().max(200), z.number(), z.boolean()]))
          .min(1)
          .max(200),
      )
      .optional(),
  })
  .default({});

const metricKey = z.enum(METRICS.map((m) => m.key) as [string, ...string[]]);

export const createExperimentRequest = z.strictObject({
  key: experimentKey,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).default(''),
  seed: z.string().min(1).max(200).optional().describe('hash seed; the key when omitted'),
  variants: z.array(variantInput).min(2).max(20).describe('the first is the control'),
  coverage: z.number().min(0).max(1).default(1),
  targeting,
  layer: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)
    .optional()
    .describe('experiments of one layer are mutually exclusive'),
  layerShare: z.number().gt(0).max(1).optional().describe('share of the layer this experiment takes when it starts (default 1)'),
  primaryMetric: metricKey.default('ctr'),
  start: z.boolean().default(false).describe('start right away (draft -> running)'),
});
// Rules JSON Schema cannot state (unique variant keys, layerShare only with a layer) are the
// service's, answered 422 with their own codes (duplicate_variant, layer_share_without_layer), so
// the document and the validator agree on every request.
export type CreateExperimentRequest = z.output<typeof createExperimentRequest>;

export const updateExperimentRequest = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  coverage: z.number().min(0).max(1).optional().describe('ramp: raising it never moves an assigned user'),
  primaryMetric: metricKey.optional(),
});
export type UpdateExperimentRequest = z.output<typeof updateExperimentRequest>;

export const shipRequest = z.strictObject({ variant: z.string().min(1).max(64) });

export const holdoutRequest = z.strictObject({ fraction: z.number().min(0).max(0.5), seed: z.string().min(1).max(200).optional() });

export const assignmentRequest = z.strictObject({
  userId: z.string().min(1).max(200),
  attributes: z.record(z.string().max(100), z.union([z.string().max(500), z.number(), z.boolean(), z.array(z.string().max(200)).max(100)])).default({}),
});
export type AssignmentRequest = z.output<typeof assignmentRequest>;

export const resultsQuery = z.object({
  sequential: z
    .enum(['true', 'false'])
    .default('true')
    .transform((x) => x === 'true')
    .describe('confidence sequences (always valid under peeking)'),
  cuped: z
    .enum(['true', 'false'])
    .default('true')
    .transform((x) => x === 'true'),
  correction: z.enum(['none', 'holm', 'bh']).default('holm'),
  alpha: z.coerce.number().gt(0).lt(0.5).default(0.05),
  metric: metricKey.optional().describe('metric of the daily series (default: the primary metric)'),
});
export type ResultsQuery = z.output<typeof resultsQuery>;

// ---- responses
const variantOut = z.strictObject({ key: z.string(), weight: z.number(), overrides: z.record(z.string(), z.unknown()) });
export const experimentResponse = z.strictObject({
  key: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(['draft', 'running', 'stopped', 'shipped']),
  seed: z.string(),
  coverage: z.number(),
  variants: z.array(variantOut),
  targeting: z.record(z.string(), z.unknown()),
  layer: z.strictObject({ key: z.string(), share: z.number(), range: z.array(z.number()).nullable() }).nullable(),
  primaryMetric: z.string(),
  shippedVariant: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  stoppedAt: z.string().nullable(),
  growthbook: z.record(z.string(), z.unknown()).describe('the same experiment for GrowthBook SDK `gb.run()`'),
});
export const experimentListResponse = z.strictObject({ experiments: z.array(experimentResponse), holdout: z.strictObject({ seed: z.string(), fraction: z.number() }) });

export const assignmentResponse = z.strictObject({
  userId: z.string(),
  heldOut: z.boolean(),
  assignments: z.array(z.strictObject({ experiment: z.string(), variant: z.string(), overrides: z.record(z.string(), z.unknown()) })),
  config: z.record(z.string(), z.unknown()).describe('shipped defaults overlaid by the assigned variants'),
});

const interval = z.tuple([z.number(), z.number()]);
export const resultsResponse = z.strictObject({
  experiment: z.string(),
  status: z.string(),
  settings: z.strictObject({ sequential: z.boolean(), cuped: z.boolean(), correction: z.string(), alpha: z.number() }),
  variants: z.array(z.strictObject({ key: z.string(), users: z.number(), weight: z.number() })),
  srm: z.strictObject({ pValue: z.number(), alarm: z.boolean() }),
  metrics: z.array(
    z.strictObject({
      metric: z.string(),
      label: z.string(),
      variant: z.string(),
      mean: z.number(),
      lift: z.number().optional(),
      ci: interval.optional(),
      pValue: z.number().optional(),
      adjustedPValue: z.number().optional(),
      chanceToWin: z.number().optional(),
      risk: interval.optional(),
      errorMessage: z.string().optional(),
    }),
  ),
  daily: z.strictObject({
    metric: z.string(),
    points: z.array(z.strictObject({ day: z.string(), variant: z.string(), users: z.number(), lift: z.number(), ci: interval })),
  }),
  computedMs: z.number(),
});

export const opeResponse = z.strictObject({
  experiment: z.string(),
  available: z.boolean(),
  reason: z.string().optional(),
  logged: z.number().int().describe('logged ad-load decisions used'),
  estimates: z.array(z.strictObject({ variant: z.string(), policy: z.record(z.string(), z.number()), estimator: z.string(), value: z.number(), ci: interval, ess: z.number() })),
  loggedValue: z.number().nullable().describe('mean clicks per fetch under the logging policy'),
});
export const defaultsResponse = z.strictObject({ defaults: z.record(z.string(), z.unknown()), shipped: z.array(z.strictObject({ experiment: z.string(), variant: z.string() })) });
