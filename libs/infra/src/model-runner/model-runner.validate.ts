import { ModelInputError, type TensorArray, type TensorData, type TensorDtype, type TensorInfo } from './model-runner.port';

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

const ARRAY_OF: Record<TensorDtype, new (n: number) => TensorArray> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

/**
 * Feed checks shared by adapters: names, dtypes, typed-array kind, rank, fixed dims and length.
 * Throws ModelInputError listing every problem.
 */
export function validateFeeds(inputs: readonly TensorInfo[], feeds: Record<string, TensorData>): void {
  const problems: string[] = [];
  const known = new Set(inputs.map((i) => i.name));
  for (const name of Object.keys(feeds)) if (!known.has(name)) problems.push(`unknown input '${name}'`);
  for (const info of inputs) {
    const t = feeds[info.name];
    if (!t) {
      problems.push(`missing input '${info.name}'`);
      continue;
    }
    if (info.dtype !== 'other' && t.dtype !== info.dtype) problems.push(`input '${info.name}' is ${t.dtype}, the model expects ${info.dtype}`);
    const ctor = ARRAY_OF[t.dtype];
    if (!ctor || !(t.data instanceof ctor)) problems.push(`input '${info.name}': data is not a ${ctor?.name ?? 'known typed array'} for dtype ${t.dtype}`);
    if (t.dims.some((d) => !Number.isInteger(d) || d < 0)) problems.push(`input '${info.name}': bad dims [${t.dims.join(', ')}]`);
    else if (t.data.length !== elementCount(t.dims)) problems.push(`input '${info.name}': ${t.data.length} values for dims [${t.dims.join(', ')}]`);
    if (info.shape.length) {
      if (t.dims.length !== info.shape.length) problems.push(`input '${info.name}' has rank ${t.dims.length}, the model expects ${info.shape.length}`);
      else
        info.shape.forEach((want, i) => {
          if (want >= 0 && t.dims[i] !== want) problems.push(`input '${info.name}' dim ${i} is ${t.dims[i]}, the model expects ${want}`);
        });
    }
  }
  if (problems.length) throw new ModelInputError(problems.join('; '));
}

export function newTensorArray(dtype: TensorDtype, n: number): TensorArray {
  return new ARRAY_OF[dtype](n);
}

/** ONNX Runtime intra-op threads of one session: an integer in 1..64 (default 1). */
export function checkIntraOpThreads(threads: number | undefined): number {
  const t = threads ?? 1;
  if (!Number.isInteger(t) || t < 1 || t > 64) throw new RangeError(`intraOpThreads must be in 1..64, got ${t}`);
  return t;
}
