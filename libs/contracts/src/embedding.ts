import { z } from 'zod';

/**
 * The one definition of a valid embedding, shared by the catalog contract, every consumer
 * (retrieval, behavior, ranking) and every route that takes a vector:
 * - 1..EMBEDDING_MAX_DIM coordinates, each a finite number inside the float32 range (a value such
 *   as 1e39 is finite in float64 but becomes Infinity once stored as float32, which the native
 *   HNSW engine and the SDIM tables cannot take);
 * - an L2 norm of at most EMBEDDING_MAX_NORM (so every coordinate is within the SDIM tables'
 *   |x| <= 1024 and squared distances stay finite in float32);
 * - the dimension its namespace declares (NAMESPACE_DIMS), checked where the namespace is known.
 */
export const FLOAT32_MAX = 3.4028234663852886e38;
export const EMBEDDING_MAX_NORM = 1024;
export const EMBEDDING_MAX_DIM = 4096;

export type EmbeddingProblemCode = 'vector_not_finite' | 'vector_out_of_range' | 'vector_norm_too_large' | 'dimension_mismatch' | 'vector_empty';

export interface EmbeddingProblem {
  code: EmbeddingProblemCode;
  message: string;
}

/** Why `v` is not a valid embedding (optionally of dimension `dim`), or undefined when it is. */
export function embeddingProblem(v: ArrayLike<unknown>, dim?: number): EmbeddingProblem | undefined {
  if (v.length === 0) return { code: 'vector_empty', message: 'embedding is empty' };
  if (v.length > EMBEDDING_MAX_DIM) return { code: 'dimension_mismatch', message: `embedding has ${v.length} coordinates; at most ${EMBEDDING_MAX_DIM}` };
  let sq = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return { code: 'vector_not_finite', message: `embedding[${i}] is not a finite number` };
    if (Math.abs(x) > FLOAT32_MAX) return { code: 'vector_out_of_range', message: `embedding[${i}] = ${x} is outside the float32 range` };
    sq += x * x;
  }
  const norm = Math.sqrt(sq);
  if (!(norm <= EMBEDDING_MAX_NORM)) return { code: 'vector_norm_too_large', message: `embedding norm ${norm.toPrecision(6)} exceeds ${EMBEDDING_MAX_NORM}` };
  if (dim !== undefined && v.length !== dim) return { code: 'dimension_mismatch', message: `embedding has dimension ${v.length}, expected ${dim}` };
  return undefined;
}

/** Throws when `v` is not a valid embedding; the error carries the problem's code. */
export class InvalidEmbeddingError extends Error {
  constructor(
    readonly code: EmbeddingProblemCode,
    message: string,
  ) {
    super(message);
  }
}

export function assertEmbedding(v: ArrayLike<unknown>, dim?: number): void {
  const p = embeddingProblem(v, dim);
  if (p) throw new InvalidEmbeddingError(p.code, p.message);
}

/**
 * The zod piece for an embedding field (events and HTTP bodies): same checks as embeddingProblem,
 * dimension aside. Coordinates carry JSON-Schema bounds (|x| <= EMBEDDING_MAX_NORM, which a vector
 * within the norm bound always meets, and which keeps every value finite and inside float32); the
 * norm bound itself is a refinement (not expressible in JSON Schema).
 */
export const embeddingSchema = z
  .array(
    z
      .number()
      .min(-EMBEDDING_MAX_NORM, { message: `must be >= -${EMBEDDING_MAX_NORM} (a finite float32 within the norm bound)` })
      .max(EMBEDDING_MAX_NORM, { message: `must be <= ${EMBEDDING_MAX_NORM} (a finite float32 within the norm bound)` }),
  )
  .min(1)
  .max(EMBEDDING_MAX_DIM)
  .superRefine((v, ctx) => {
    const p = embeddingProblem(v);
    if (p && p.code === 'vector_norm_too_large') ctx.addIssue({ code: 'custom', message: p.message });
  });

/** Namespace name: lowercase letters, digits, - and _ (as in catalog.items). */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * Declared dimension per namespace, parsed from `items:32,ads:32`. A namespace that is not
 * declared has no dimension: its upserts are rejected (`unknown_namespace`), never used to
 * fix one.
 */
export function parseNamespaceDims(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^:]+):(\d+)$/.exec(part);
    if (!m || !NAMESPACE_PATTERN.test(m[1])) throw new Error(`'${part}': expected <namespace>:<dimension> with a lowercase namespace`);
    const dim = Number(m[2]);
    if (!Number.isInteger(dim) || dim < 1 || dim > EMBEDDING_MAX_DIM) throw new Error(`'${part}': dimension must be in 1..${EMBEDDING_MAX_DIM}`);
    if (out[m[1]] !== undefined && out[m[1]] !== dim) throw new Error(`namespace '${m[1]}' declared twice with different dimensions`);
    out[m[1]] = dim;
  }
  return out;
}
