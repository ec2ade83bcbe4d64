import { modelRunnerContract } from './model-runner.contract';
import { OnnxWorkerModelRunner } from './model-runner.onnx-worker.adapter';

modelRunnerContract('onnxruntime-node in worker threads', () => new OnnxWorkerModelRunner());
