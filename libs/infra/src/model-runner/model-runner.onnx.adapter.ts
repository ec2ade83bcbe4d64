import * as ort from 'onnxruntime-node';
import { ModelLoadError, ModelReleasedError, type ModelLoadOptions, type ModelRunner, type ModelSession, type TensorData, type TensorDtype, type TensorInfo } from './model-runner.port';
import { checkIntraOpThreads, validateFeeds } from './model-runner.validate';

/**
 * ModelRunner on onnxruntime-node (CPU execution provider; the binaries ship in the npm package,
 * nothing is downloaded at run time).
 *
 * Notes on the binding (onnxruntime-node 1.30) that shape this adapter:
 * - Session creation parses and optimises the graph synchronously on the calling thread; for the
 *   ranking models (a few MB) this takes milliseconds. load() ends with a warm-up run when
 *   `warmUp` feeds are given, so the first real request does not pay for allocations.
 * - run() is executed on the calling thread (after a setImmediate); with intraOpThreads > 1 ONNX
 *   Runtime adds pool threads for the operators. Spinning of idle pool threads is off by default:
 *   on a small shared machine a spinning thread steals a core from request handling.
 */
export interface OnnxRunnerOptions {
  /** Let idle intra-op threads spin (lower latency on a dedicated machine). Default false. */
  allowSpinning?: boolean;
  /** 'all' (default) or 'basic' graph optimisations. */
  graphOptimization?: 'basic' | 'extended' | 'all';
}

const ORT_DTYPES: Record<string, TensorDtype> = { float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', bool: 'bool' };

function infoOf(meta: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) return { name: meta.name, dtype: 'other', shape: [] };
  return {
    name: meta.name,
    dtype: ORT_DTYPES[meta.type] ?? 'other',
    shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
}

class OnnxSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  private released = false;

  constructor(private readonly session: ort.InferenceSession) {
    this.inputNames = [...session.inputNames];
    this.outputNames = [...session.outputNames];
    this.inputs = session.inputMetadata.map(infoOf);
    this.outputs = session.outputMetadata.map(infoOf);
  }

  async run(feeds: Record<string, TensorData>, outputNames?: readonly string[]): Promise<Record<string, TensorData>> {
    if (this.released) throw new ModelReleasedError('the model session was released');
    validateFeeds(this.inputs, feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.dtype, t.data as never, t.dims);
    const fetches = outputNames ? [...outputNames] : undefined;
    const result = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    const out: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(result)) {
      const t = value as ort.Tensor;
      const dtype = ORT_DTYPES[t.type];
      if (!dtype) throw new Error(`output '${name}' has unsupported type ${t.type}`);
      out[name] = { dtype, data: t.data as TensorData['data'], dims: [...t.dims] };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

export class OnnxModelRunner implements ModelRunner {
  readonly kind = 'onnxruntime-node';

  constructor(private readonly options: OnnxRunnerOptions = {}) {}

  async load(bytes: Uint8Array, options: ModelLoadOptions = {}): Promise<ModelSession> {
    const threads = checkIntraOpThreads(options.intraOpThreads);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: this.options.graphOptimization ?? 'all',
        logSeverityLevel: 3,
        extra: { session: { intra_op: { allow_spinning: this.options.allowSpinning ? '1' : '0' } } },
      });
    } catch (e) {
      throw new ModelLoadError(`not a loadable ONNX model: ${(e as Error).message}`);
    }
    return new OnnxSession(session);
  }
}
