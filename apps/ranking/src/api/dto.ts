import { z } from 'zod';

const id = z.string().min(1).max(200);
/** Registry names and versions: also used in URLs and consumer-visible events. */
export const modelNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const rankRequest = z.object({
  userId: id,
  domain: z.string().min(1).max(100),
  /** Item ids to score; unknown ids are scored with default features. Duplicates are scored once. */
  candidates: z.array(id).max(100_000),
  /** Request context (surface, time, device...). Accepted and logged; feature spec v1 uses none of it. */
  context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Also return each candidate's routing coefficients (the model's `routing` output). */
  explain: z.boolean().default(false),
});
export type RankRequest = z.output<typeof rankRequest>;

export const registerRequest = z.object({
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

export const promoteRequest = z.object({ to: z.enum(['shadow', 'live']) });
export type PromoteRequest = z.output<typeof promoteRequest>;

const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as object;
export const rankRequestJsonSchema = json(rankRequest);
export const registerRequestJsonSchema = json(registerRequest);
export const promoteRequestJsonSchema = json(promoteRequest);
