/**
 * ModelRunner: loads a serialized model (ONNX bytes) into a session that scores batches of
 * tensors. Every adapter passes model-runner.contract.ts.
 *
 * Invariants:
 * - load() resolves only with a session that is fully initialised (graph parsed and optimised):
 *   the first run() pays no hidden set-up cost beyond allocator warm-up.
 * - run() validates the feeds against the model's declared inputs (every input present, dtype and
 *   rank as declared, fixed dims equal) and rejects with ModelInputError before touching the model.
 * - run() calls on one session may overlap; each gets its own outputs.
 * - After release() resolves, run() rejects with ModelReleasedError. release() is idempotent. The
 *   caller must not release a session while a run on it is still pending (reference counting is
 *   the caller's job: the ranking app's model slot does it).
 */
export type TensorDtype = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

export type TensorArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface TensorData {
  dtype: TensorDtype;
  /** Row-major; length = product of dims. bool uses Uint8Array (0/1). */
  data: TensorArray;
  dims: readonly number[];
}

export interface TensorInfo {
  name: string;
  dtype: TensorDtype | 'other';
  /** Declared shape; a symbolic or unknown dimension is -1. Empty when the model declares none. */
  shape: readonly number[];
}

export interface ModelLoadOptions {
  /** Threads one run may use (ONNX Runtime intra-op threads). 1 = run on the calling thread. Default 1. */
  intraOpThreads?: number;
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Scores one batch. `outputNames` limits what is computed and returned (default: all outputs). */
  run(feeds: Record<string, TensorData>, outputNames?: readonly string[]): Promise<Record<string, TensorData>>;
  /** Frees native resources. */
  release(): Promise<void>;
}

export interface ModelRunner {
  readonly kind: string;
  /** Rejects with ModelLoadError when the bytes are not a loadable model. */
  load(bytes: Uint8Array, options?: ModelLoadOptions): Promise<ModelSession>;
}

export class ModelLoadError extends Error {
  readonly code = 'model_load_failed';
}

export class ModelInputError extends Error {
  readonly code = 'model_input_invalid';
}

export class ModelReleasedError extends Error {
  readonly code = 'model_released';
}
