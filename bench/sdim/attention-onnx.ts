/**
 * Target attention on ONNX Runtime (CPU, MLAS kernels), the graph built here as ONNX protobuf bytes:
 *   S = Gemm(Q, X, alpha = 1/sqrt(d), transB = 1)   [n x L]
 *   P = Softmax(S, axis = 1)
 *   O = MatMul(P, X)                                 [n x d]
 * Q (candidates) and X (history) are float32 inputs with symbolic n and L. One intra-op thread, one
 * inter-op thread, sequential execution: the single-core kernel the other attention kernels are
 * measured against.
 */
import * as ort from 'onnxruntime-node';

// Minimal protobuf writer for the few ONNX messages the graph needs (onnx.proto3 field numbers).
const varint = (v: number): number[] => {
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const key = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, v: number) => [...key(field, 0), ...varint(v)];
const bytes = (field: number, b: number[]) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const float = (field: number, v: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return [...key(field, 5), ...b];
};

const FLOAT = 1; // TensorProto.DataType.FLOAT
const attrFloat = (name: string, v: number) => [...str(1, name), ...float(2, v), ...int(20, 1)];
const attrInt = (name: string, v: number) => [...str(1, name), ...int(3, v), ...int(20, 2)];
const node = (op: string, inputs: string[], outputs: string[], attrs: number[][] = []) => [
  ...inputs.flatMap((i) => str(1, i)),
  ...outputs.flatMap((o) => str(2, o)),
  ...str(3, `${op}_0`),
  ...str(4, op),
  ...attrs.flatMap((a) => bytes(5, a)),
];
const dim = (d: number | string) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d));
const tensorInfo = (name: string, dims: (number | string)[]) => [...str(1, name), ...bytes(2, bytes(1, [...int(1, FLOAT), ...bytes(2, dims.flatMap(dim))]))];

/** The ONNX model (opset 13) of target attention at dimension d. */
export function attentionModel(d: number): Uint8Array {
  const graph = [
    ...bytes(1, node('Gemm', ['Q', 'X'], ['S'], [attrFloat('alpha', 1 / Math.sqrt(d)), attrInt('transB', 1)])),
    ...bytes(1, node('Softmax', ['S'], ['P'], [attrInt('axis', 1)])),
    ...bytes(1, node('MatMul', ['P', 'X'], ['O'])),
    ...str(2, 'target_attention'),
    ...bytes(11, tensorInfo('Q', ['n', d])),
    ...bytes(11, tensorInfo('X', ['L', d])),
    ...bytes(12, tensorInfo('O', ['n', d])),
  ];
  const model = [...int(1, 8), ...str(2, 'recsys bench:sdim'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])];
  return Uint8Array.from(model);
}

export class OnnxAttention {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly d: number,
  ) {}

  static async create(d: number): Promise<OnnxAttention> {
    const session = await ort.InferenceSession.create(attentionModel(d), {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new OnnxAttention(session, d);
  }

  /** softmax(Q X^T / sqrt(d)) X for Q (n x d) and X (L x d), row-major float32. */
  async run(q: Float32Array, x: Float32Array): Promise<Float32Array> {
    const d = this.d;
    const out = await this.session.run({ Q: new ort.Tensor('float32', q, [q.length / d, d]), X: new ort.Tensor('float32', x, [x.length / d, d]) });
    return out.O.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
