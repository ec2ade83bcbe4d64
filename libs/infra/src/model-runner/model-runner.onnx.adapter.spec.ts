import { modelRunnerContract } from './model-runner.contract';
import { OnnxModelRunner } from './model-runner.onnx.adapter';

modelRunnerContract('onnxruntime-node', () => new OnnxModelRunner());
