import { z } from 'zod';
import type { TensorDtype, TensorInfo } from '@recsys/infra/model-runner/model-runner.port';

/**
 * feature-spec.json, version 1 (ops/training/CONTRACT.md section 2): what the model expects and
 * how serving builds it. Parsing checks the shape of the document and its internal consistency;
 * checkDeployment() and checkModelIo() check it against the running deployment and the model.
 */
const positiveInt = z.number().int().positive();
const finite = z.number().refine(Number.isFinite, 'must be finite');
const dim = z.union([z.number().int().min(-1), z.string().min(1)]);

export const FEATURE_NAMES = ['user_bucket', 'item_bucket', 'domain', 'item_dense', 'item_emb', 'sdim_interest'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

const featureSpecShape = z
  .object({
    specVersion: z.literal(1),
    model: z.object({ name: z.string().min(1), kind: z.string().min(1), routingDim: positiveInt }).loose(),
    domains: z.array(z.string().min(1)).min(1),
    hash: z.object({ fn: z.literal('fnv1a32'), userBuckets: positiveInt, itemBuckets: positiveInt }),
    itemDense: z.object({ genres: z.array(z.string().min(1)), yearOffset: finite, yearScale: finite.refine((v) => v !== 0, 'must not be 0'), yearDefault: finite }),
    embedding: z.object({ dim: positiveInt }),
    sdim: z.object({
      seed: z.number().int().min(0).max(0xffffffff),
      m: positiveInt,
      tau: z.number().int().min(1).max(8),
      d: positiveInt,
      normalize: z.enum(['l2', 'count', 'none', 'pooled']),
    }),
    history: z.object({ positiveTypes: z.array(z.string().min(1)).min(1) }),
    inputs: z.array(z.object({ name: z.enum(FEATURE_NAMES), dtype: z.enum(['int64', 'float32']), shape: z.array(dim).min(1).max(2) })).min(1),
    outputs: z.array(z.string().min(1)).min(1),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

interface SpecProblem {
  path: string;
  message: string;
}

/**
 * Consistency checks across fields. Written against the raw input (every access guarded) so that
 * they run even when other fields are malformed: a caller sees every problem at once.
 */
function crossCheck(raw: unknown): SpecProblem[] {
  const out: SpecProblem[] = [];
  const issue = (path: (string | number)[], message: string) => out.push({ path: path.join('.'), message });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks a spec that failed validation: any field may be missing or of another type
  const s = (raw ?? {}) as Record<string, any>;
  const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
  const domains = arr(s.domains);
  if (domains && new Set(domains).size !== domains.length) issue(['domains'], 'domains must be unique');
  const genres = arr(s.itemDense?.genres);
  if (genres && new Set(genres).size !== genres.length) issue(['itemDense', 'genres'], 'genres must be unique');
  const d = s.embedding?.dim;
  if (typeof s.sdim?.d === 'number' && typeof d === 'number' && s.sdim.d !== d) issue(['sdim', 'd'], `sdim.d (${s.sdim.d}) must equal embedding.dim (${d})`);
  if (Number.isInteger(s.sdim?.m) && Number.isInteger(s.sdim?.tau) && s.sdim.tau > 0 && s.sdim.m % s.sdim.tau !== 0) {
    issue(['sdim', 'm'], `sdim.m (${s.sdim.m}) must be a multiple of tau (${s.sdim.tau})`);
  }
  const outputs = arr(s.outputs);
  if (outputs) for (const o of ['pctr', 'routing']) if (!outputs.includes(o)) issue(['outputs'], `outputs must include '${o}'`);
  const inputs = arr(s.inputs);
  if (inputs) {
    const names = inputs.map((i) => (i as { name?: unknown })?.name);
    if (new Set(names).size !== names.length) issue(['inputs'], 'input names must be unique');
    inputs.forEach((input, i) => {
      const x = input as { name?: unknown; dtype?: unknown; shape?: unknown };
      if (!(FEATURE_NAMES as readonly unknown[]).includes(x?.name)) return;
      const want = expectedInput(x.name as FeatureName, genres?.length ?? 0, typeof d === 'number' ? d : -1);
      if (typeof x.dtype === 'string' && x.dtype !== want.dtype) issue(['inputs', i, 'dtype'], `${x.name} must be ${want.dtype}`);
      const shape = arr(x.shape);
      if (!shape) return;
      if (shape.length !== want.shape.length) issue(['inputs', i, 'shape'], `${x.name} must have rank ${want.shape.length}`);
      else if (want.shape.length === 2 && want.shape[1] >= 0 && (genres || x.name !== 'item_dense') && typeof shape[1] === 'number' && shape[1] !== want.shape[1]) {
        issue(['inputs', i, 'shape'], `${x.name} must have ${want.shape[1]} columns, not ${shape[1]}`);
      }
    });
  }
  return out;
}

/** The whole schema (shape and cross-field checks) as a zod type, e.g. for OpenAPI or composition. */
export const featureSpecSchema = featureSpecShape.superRefine((v, ctx) => {
  for (const p of crossCheck(v)) ctx.addIssue({ code: 'custom', path: p.path.split('.'), message: p.message });
});

export type FeatureSpec = z.output<typeof featureSpecShape>;

/** dtype and shape ([-1] batch, then columns) of each feature (CONTRACT.md section 1). */
export function expectedInput(name: FeatureName, genres: number, d: number): { dtype: TensorDtype; shape: number[] } {
  switch (name) {
    case 'user_bucket':
    case 'item_bucket':
    case 'domain':
      return { dtype: 'int64', shape: [-1] };
    case 'item_dense':
      return { dtype: 'float32', shape: [-1, genres + 1] };
    case 'item_emb':
    case 'sdim_interest':
      return { dtype: 'float32', shape: [-1, d] };
  }
}

export class FeatureSpecError extends Error {
  readonly code = 'feature_spec_invalid';
  constructor(readonly problems: SpecProblem[]) {
    super(`invalid feature spec: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`);
  }
}

/** Parses and validates a feature spec; throws FeatureSpecError listing every problem. */
export function parseFeatureSpec(input: unknown): FeatureSpec {
  const r = featureSpecShape.safeParse(input);
  const problems = [...(r.success ? [] : r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))), ...crossCheck(input)];
  if (problems.length || !r.success) throw new FeatureSpecError(problems);
  return r.data;
}

/** What the deployment fixes: the SDIM hash functions the behavior service writes tables with. */
export interface DeploymentFeatures {
  sdim: { seed: number; m: number; tau: number; d: number };
  embeddingDim: number;
}

/**
 * Problems that make a spec unusable in this deployment (empty when it fits): the SDIM tables
 * and item embeddings would not match what the model was trained on (CONTRACT.md section 2).
 */
export function checkDeployment(spec: FeatureSpec, dep: DeploymentFeatures): string[] {
  const problems: string[] = [];
  for (const k of ['seed', 'm', 'tau', 'd'] as const) {
    if (spec.sdim[k] !== dep.sdim[k]) problems.push(`sdim.${k} is ${spec.sdim[k]} in the spec but ${dep.sdim[k]} in this deployment (SDIM_${k === 'd' ? 'D/EMBEDDING_DIM' : k.toUpperCase()})`);
  }
  if (spec.embedding.dim !== dep.embeddingDim) problems.push(`embedding.dim is ${spec.embedding.dim} in the spec but EMBEDDING_DIM is ${dep.embeddingDim}`);
  return problems;
}

/**
 * Problems between the spec and the loaded model (empty when they agree): the model's inputs are
 * exactly the spec's, with the same dtypes and compatible shapes; it has float32 outputs `pctr`
 * [B] and `routing` [B, K] (K = model.routingDim when the model fixes it).
 */
export function checkModelIo(spec: FeatureSpec, inputs: readonly TensorInfo[], outputs: readonly TensorInfo[]): string[] {
  const problems: string[] = [];
  const modelInputs = new Map(inputs.map((i) => [i.name, i]));
  for (const want of spec.inputs) {
    const got = modelInputs.get(want.name);
    if (!got) {
      problems.push(`the model has no input '${want.name}'`);
      continue;
    }
    if (got.dtype !== want.dtype) problems.push(`input '${want.name}' is ${got.dtype} in the model, ${want.dtype} in the spec`);
    const exp = expectedInput(want.name, spec.itemDense.genres.length, spec.embedding.dim);
    if (got.shape.length && got.shape.length !== exp.shape.length) problems.push(`input '${want.name}' has rank ${got.shape.length} in the model, ${exp.shape.length} expected`);
    else if (got.shape.length === 2 && got.shape[1] >= 0 && got.shape[1] !== exp.shape[1]) problems.push(`input '${want.name}' has ${got.shape[1]} columns in the model, ${exp.shape[1]} expected`);
    if (got.shape.length && got.shape[0] >= 0) problems.push(`input '${want.name}' has a fixed batch dimension ${got.shape[0]}; the batch axis must be dynamic`);
  }
  const declared = new Set(spec.inputs.map((i) => i.name));
  for (const name of modelInputs.keys()) if (!declared.has(name as FeatureName)) problems.push(`the model takes input '${name}', which the spec does not declare`);
  const outs = new Map(outputs.map((o) => [o.name, o]));
  const pctr = outs.get('pctr');
  if (!pctr) problems.push(`the model has no output 'pctr'`);
  else if (pctr.dtype !== 'float32' || (pctr.shape.length && pctr.shape.length !== 1)) problems.push(`output 'pctr' must be float32 [B], is ${pctr.dtype} [${pctr.shape.join(', ')}]`);
  const routing = outs.get('routing');
  if (!routing) problems.push(`the model has no output 'routing'`);
  else if (routing.dtype !== 'float32' || (routing.shape.length && routing.shape.length !== 2))
    problems.push(`output 'routing' must be float32 [B, K], is ${routing.dtype} [${routing.shape.join(', ')}]`);
  else if (routing.shape.length === 2 && routing.shape[1] >= 0 && routing.shape[1] !== spec.model.routingDim)
    problems.push(`output 'routing' has ${routing.shape[1]} columns, model.routingDim is ${spec.model.routingDim}`);
  return problems;
}

/**
 * A key of everything that determines the features (not the model block or training metadata):
 * two specs with the same key get the same feeds, so a shadow model can reuse the live features.
 */
export function featureKey(spec: FeatureSpec): string {
  return JSON.stringify([spec.domains, spec.hash, spec.itemDense, spec.embedding, spec.sdim, spec.inputs.map((i) => i.name)]);
}
