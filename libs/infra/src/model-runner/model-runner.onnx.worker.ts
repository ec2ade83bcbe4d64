import { parentPort } from 'node:worker_threads';
import { OnnxModelRunner, type OnnxRunnerOptions } from './model-runner.onnx.adapter';
import type { ModelLoadOptions, ModelSession, TensorData } from './model-runner.port';

/**
 * The thread behind OnnxWorkerModelRunner: one ONNX Runtime session per worker. Session creation
 * (synchronous in the binding) and every run happen here, off the caller's event loop.
 */
export type WorkerRequest =
  { op: 'load'; bytes: Uint8Array; load: ModelLoadOptions; runner: OnnxRunnerOptions } | { op: 'run'; id: number; feeds: Record<string, TensorData>; outputNames?: string[] } | { op: 'release' };

export type WorkerResponse =
  | { op: 'loaded'; inputs: ModelSession['inputs']; outputs: ModelSession['outputs'] }
  | { op: 'result'; id: number; outputs: Record<string, TensorData> }
  | { op: 'error'; id?: number; name: string; message: string }
  | { op: 'released' };

const port = parentPort;
if (!port) throw new Error('model-runner.onnx.worker must run in a worker thread');
let session: ModelSession | undefined;

const fail = (e: unknown, id?: number): WorkerResponse => ({ op: 'error', id, name: (e as Error).constructor?.name ?? 'Error', message: (e as Error).message });

port.on('message', async (m: WorkerRequest) => {
  if (m.op === 'load') {
    try {
      session = await new OnnxModelRunner(m.runner).load(m.bytes, m.load);
      port.postMessage({ op: 'loaded', inputs: session.inputs, outputs: session.outputs } satisfies WorkerResponse);
    } catch (e) {
      port.postMessage(fail(e));
    }
  } else if (m.op === 'run') {
    try {
      if (!session) throw new Error('no session loaded');
      const outputs = await session.run(m.feeds, m.outputNames);
      // Hand the output buffers over instead of copying them.
      const transfer = Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer);
      port.postMessage({ op: 'result', id: m.id, outputs } satisfies WorkerResponse, transfer);
    } catch (e) {
      port.postMessage(fail(e, m.id));
    }
  } else if (m.op === 'release') {
    await session?.release();
    session = undefined;
    port.postMessage({ op: 'released' } satisfies WorkerResponse);
  }
});
