import { z } from 'zod';

const id = z.string().min(1).max(200);
/** Registry names and versions: also used in URLs and consumer-visible events. */
export const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const namePart = z.string().regex(modelNamePattern, `must match ${modelNamePattern.source}`);

export const modelParams = z.strictObject({ name: namePart.meta({ examples: ['ctr'] }) });
export const versionParams = z.strictObject({ name: namePart.meta({ examples: ['ctr'] }), version: namePart.meta({ examples: ['v1'] }) });

export const rankRequest = z.strictObject({
  userId: id.meta({ examples: ['demo-user-0'] }),
  domain: z.string().min(1).max(100),
  /** Item ids to score; unknown ids are scored with default features. Duplicates are scored once. */
  candidates: z.array(id).max(100_000).describe('item ids; unknown ids get default features, duplicates are scored once; at most RANKING_MAX_CANDIDATES distinct'),
  /** Request context (surface, time, device...). Accepted and logged; feature spec v1 uses none of it. */
  context: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('accepted; feature spec v1 uses none of it'),
  /** Also return each candidate's routing coefficients (the model's `routing` output). */
  explain: z.boolean().default(false),
});
export type RankRequest = z.output<typeof rankRequest>;

export const rankQuery = z.object({
  explain: z.enum(['true', 'false', '1', '0']).optional().describe('same as the body field explain'),
});

export const rankResponse = z.array(
  z.strictObject({
    itemId: z.string(),
    pctr: z.number().min(0).max(1),
    routing: z.array(z.number()).optional().describe('routing coefficients (explain=true)'),
  }),
);

export const registerRequest = z.strictObject({
  /** The ONNX model, base64 (standard alphabet, padding optional). */
  artifactBase64: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64'),
  /** feature-spec.json (ops/training/CONTRACT.md section 2); validated by the service. */
  featureSpec: z.record(z.string(), z.unknown()),
  /** Offline metrics (metrics.json of the training run), stored as given. */
  metrics: z.record(z.string(), z.unknown()).optional(),
});
export type RegisterRequest = z.output<typeof registerRequest>;

export const promoteRequest = z.strictObject({ to: z.enum(['shadow', 'live']) });
export type PromoteRequest = z.output<typeof promoteRequest>;

const loaded = z.strictObject({
  name: z.string(),
  version: z.string(),
  checksum: z.string(),
  kind: z.string(),
  loadedAt: z.string(),
  loadMs: z.number(),
  inFlight: z.number().int(),
});
const serving = z.strictObject({
  live: loaded.nullable(),
  shadow: loaded.nullable(),
  problems: z.array(z.strictObject({ slot: z.enum(['live', 'shadow']), version: z.string(), checksum: z.string(), message: z.string(), at: z.string() })),
  lastPassAt: z.string().nullable(),
});

export const statusResponse = z.strictObject({
  replica: z.string(),
  modelName: z.string(),
  models: serving,
  catalog: z.strictObject({ items: z.number().int(), caughtUp: z.boolean() }),
  shadowInFlight: z.number().int(),
});

export const versionSummary = z.strictObject({
  name: z.string(),
  version: z.string(),
  checksum: z.string(),
  artifactBytes: z.number().int(),
  status: z.enum(['staged', 'shadow', 'live', 'retired']),
  previousLive: z.string().nullable(),
  featureSpec: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  statusChangedAt: z.string(),
});

export const listResponse = z.array(z.strictObject({ name: z.string(), versions: z.number().int(), live: z.string().nullable(), shadow: z.string().nullable() }));

export const describeResponse = z.strictObject({
  name: z.string(),
  live: z.string().nullable(),
  shadow: z.string().nullable(),
  versions: z.array(versionSummary),
  events: z.array(z.strictObject({ id: z.number().int(), version: z.string(), action: z.string(), from: z.string().nullable(), to: z.string(), at: z.string() })),
  serving: serving.nullable().describe('what this replica serves, when the model is the one it serves (RANKING_MODEL_NAME)'),
});

export const registerResponse = z.strictObject({ created: z.boolean(), version: versionSummary });

export const changeResponse = z.strictObject({
  changed: z.boolean(),
  version: versionSummary,
  serving: serving.nullable(),
});
export const rollbackResponse = changeResponse.extend({ from: z.string().describe('the version that was live') });
