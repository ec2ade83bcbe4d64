import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OnnxRunnerOptions } from './model-runner.onnx.adapter';
import type { WorkerRequest, WorkerResponse } from './model-runner.onnx.worker';
import { ModelInputError, ModelLoadError, ModelReleasedError, type ModelLoadOptions, type ModelRunner, type ModelSession, type TensorData, type TensorInfo } from './model-runner.port';
import { checkIntraOpThreads, validateFeeds } from './model-runner.validate';

/**
 * ModelRunner on onnxruntime-node with each session in its own worker thread. What it buys over
 * OnnxModelRunner: loading a model (whose session creation blocks a thread for milliseconds) and
 * every model run happen off the caller's event loop, so a hot swap does not stall requests and
 * HTTP parsing / feature assembly of other requests overlap with inference. What it costs: a
 * message round trip and a copy of the input tensors per run (tens of microseconds), and a worker
 * start (tens of milliseconds) per load.
 */
const ERRORS: Record<string, new (m: string) => Error> = { ModelLoadError, ModelInputError, ModelReleasedError, RangeError };

function rebuild(name: string, message: string): Error {
  return new (ERRORS[name] ?? Error)(message);
}

class WorkerSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: Record<string, TensorData>) => void; reject: (e: Error) => void }>();
  private released = false;
  private dead?: Error;
  private releasing?: Promise<void>;

  constructor(
    private readonly worker: Worker,
    readonly inputs: readonly TensorInfo[],
    readonly outputs: readonly TensorInfo[],
  ) {
    this.inputNames = inputs.map((i) => i.name);
    this.outputNames = outputs.map((o) => o.name);
    worker.on('message', (m: WorkerResponse) => {
      if (m.op === 'result' || (m.op === 'error' && m.id !== undefined)) {
        const p = this.pending.get(m.id!);
        if (!p) return;
        this.pending.delete(m.id!);
        this.updateRef();
        if (m.op === 'result') p.resolve(m.outputs);
        else p.reject(rebuild(m.name, m.message));
      }
    });
    const die = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => die(new Error(`model worker failed: ${e.message}`)));
    worker.on('exit', (code) => die(new ModelReleasedError(`model worker exited (${code})`)));
    worker.unref();
  }

  async run(feeds: Record<string, TensorData>, outputNames?: readonly string[]): Promise<Record<string, TensorData>> {
    if (this.released) throw new ModelReleasedError('the model session was released');
    if (this.dead) throw this.dead;
    validateFeeds(this.inputs, feeds);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      this.worker.postMessage({ op: 'run', id, feeds, outputNames: outputNames ? [...outputNames] : undefined } satisfies WorkerRequest);
    });
  }

  release(): Promise<void> {
    if (this.releasing) return this.releasing;
    this.released = true;
    this.releasing = (async () => {
      if (!this.dead) {
        this.worker.ref();
        await new Promise<void>((resolve) => {
          const done = (m: WorkerResponse) => m.op === 'released' && (this.worker.off('message', done), resolve());
          this.worker.on('message', done);
          this.worker.once('exit', () => resolve());
          this.worker.postMessage({ op: 'release' } satisfies WorkerRequest);
        });
      }
      await this.worker.terminate();
    })();
    return this.releasing;
  }

  /** The worker keeps the process alive only while a run is pending (an idle session never does). */
  private updateRef() {
    if (this.pending.size) this.worker.ref();
    else this.worker.unref();
  }
}

/**
 * The worker's compiled script. Worker threads run plain JavaScript, so when this module itself is
 * loaded from its TypeScript source (jest transpiles in memory) the worker comes from the build
 * output (`npm run build`, which `npm test` runs first) at the same relative path under dist/.
 */
function workerScript(): string {
  if (!__filename.endsWith('.ts')) return join(__dirname, 'model-runner.onnx.worker.js');
  let root = __dirname;
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const compiled = join(root, 'dist', relative(root, __dirname), 'model-runner.onnx.worker.js');
  if (!existsSync(compiled)) throw new Error(`model worker script ${compiled} is missing: run 'npm run build' first`);
  return compiled;
}

export class OnnxWorkerModelRunner implements ModelRunner {
  readonly kind = 'onnxruntime-node (worker threads)';

  constructor(private readonly options: OnnxRunnerOptions = {}) {}

  async load(bytes: Uint8Array, options: ModelLoadOptions = {}): Promise<ModelSession> {
    checkIntraOpThreads(options.intraOpThreads); // rejects a bad value here; the worker applies it
    const worker = new Worker(workerScript());
    try {
      const loaded = await new Promise<Extract<WorkerResponse, { op: 'loaded' }>>((resolve, reject) => {
        worker.once('message', (m: WorkerResponse) => (m.op === 'loaded' ? resolve(m) : m.op === 'error' ? reject(rebuild(m.name, m.message)) : reject(new Error(`unexpected ${m.op}`))));
        worker.once('error', (e) => reject(new ModelLoadError(`model worker failed: ${e.message}`)));
        worker.postMessage({ op: 'load', bytes, load: options, runner: this.options } satisfies WorkerRequest);
      });
      return new WorkerSession(worker, loaded.inputs, loaded.outputs);
    } catch (e) {
      await worker.terminate();
      throw e;
    }
  }
}
