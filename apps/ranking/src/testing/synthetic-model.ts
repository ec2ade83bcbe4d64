import { encodeOnnxModel, type OnnxInitializer, type OnnxNode } from '@recsys/infra/model-runner/onnx-writer';
import { exampleFeatureSpec, type FeatureSpec } from '@recsys/ranking';
import { mulberry32 } from '@recsys/ann/synthetic';

/**
 * A CTR model that honours the serving contract (CONTRACT.md section 1), built in TypeScript with
 * random weights: for tests and benchmarks that must not depend on the Python training side.
 * Architecture (AdaptDHM-like in shape and cost, not trained):
 *   x = [user_emb(user_bucket), item_emb_table(item_bucket), domain_emb(domain), item_dense,
 *        item_emb, sdim_interest, item_emb * sdim_interest]
 *   h = relu(relu(x W1 + b1) W2 + b2)
 *   routing = softmax(h Wr + br)                       [B, K]  (distribution coefficients)
 *   tower_k = sum_t relu(h Wt + bt)[k, t] * Wo[k, t] + bo[k]   (K towers of width T)
 *   pctr = sigmoid(sum_k routing_k * tower_k)          [B]
 */
export interface SyntheticModelOptions {
  spec?: FeatureSpec;
  /** Different seeds give different weights (another "version"). */
  seed?: number;
  idDim?: number;
  hidden?: [number, number];
  towerWidth?: number;
  /** Scales the final logit: a quick way to make versions whose scores clearly differ. */
  logitScale?: number;
}

export function syntheticCtrModel(o: SyntheticModelOptions = {}): { bytes: Buffer; spec: FeatureSpec } {
  const spec = o.spec ?? exampleFeatureSpec();
  const rnd = mulberry32(o.seed ?? 1);
  const E = o.idDim ?? 16;
  const [H1, H2] = o.hidden ?? [128, 64];
  const T = o.towerWidth ?? 32;
  const K = spec.model.routingDim;
  const d = spec.embedding.dim;
  const G1 = spec.itemDense.genres.length + 1;
  const F = 3 * E + G1 + 3 * d;
  const init = (name: string, dims: number[], scale: number): OnnxInitializer => ({
    name,
    type: 'float32',
    dims,
    values: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => (rnd() * 2 - 1) * scale),
  });
  const glorot = (fanIn: number, fanOut: number) => Math.sqrt(6 / (fanIn + fanOut));
  const initializers: OnnxInitializer[] = [
    init('user_table', [spec.hash.userBuckets, E], 0.5),
    init('item_table', [spec.hash.itemBuckets, E], 0.5),
    init('domain_table', [spec.domains.length, E], 0.5),
    init('W1', [F, H1], glorot(F, H1)),
    init('b1', [H1], 0.1),
    init('W2', [H1, H2], glorot(H1, H2)),
    init('b2', [H2], 0.1),
    init('Wr', [H2, K], glorot(H2, K) * 2),
    init('br', [K], 0.1),
    init('Wt', [H2, K * T], glorot(H2, K * T)),
    init('bt', [K * T], 0.1),
    init('Wo', [K, T], glorot(T, 1) * (o.logitScale ?? 1)),
    init('bo', [K], 0.5),
    { name: 'tower_shape', type: 'int64', dims: [3], values: [-1, K, T] },
    { name: 'axis1', type: 'int64', dims: [1], values: [1] },
    { name: 'axis2', type: 'int64', dims: [1], values: [2] },
  ];
  const nodes: OnnxNode[] = [
    { op: 'Gather', inputs: ['user_table', 'user_bucket'], outputs: ['ue'], attributes: { axis: 0 } },
    { op: 'Gather', inputs: ['item_table', 'item_bucket'], outputs: ['ie'], attributes: { axis: 0 } },
    { op: 'Gather', inputs: ['domain_table', 'domain'], outputs: ['de'], attributes: { axis: 0 } },
    { op: 'Mul', inputs: ['item_emb', 'sdim_interest'], outputs: ['cross'] },
    { op: 'Concat', inputs: ['ue', 'ie', 'de', 'item_dense', 'item_emb', 'sdim_interest', 'cross'], outputs: ['x'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h1m'] },
    { op: 'Add', inputs: ['h1m', 'b1'], outputs: ['h1a'] },
    { op: 'Relu', inputs: ['h1a'], outputs: ['h1'] },
    { op: 'MatMul', inputs: ['h1', 'W2'], outputs: ['h2m'] },
    { op: 'Add', inputs: ['h2m', 'b2'], outputs: ['h2a'] },
    { op: 'Relu', inputs: ['h2a'], outputs: ['h'] },
    { op: 'MatMul', inputs: ['h', 'Wr'], outputs: ['rm'] },
    { op: 'Add', inputs: ['rm', 'br'], outputs: ['ra'] },
    { op: 'Softmax', inputs: ['ra'], outputs: ['routing'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['h', 'Wt'], outputs: ['tm'] },
    { op: 'Add', inputs: ['tm', 'bt'], outputs: ['ta'] },
    { op: 'Relu', inputs: ['ta'], outputs: ['tr'] },
    { op: 'Reshape', inputs: ['tr', 'tower_shape'], outputs: ['t3'] },
    { op: 'Mul', inputs: ['t3', 'Wo'], outputs: ['tw'] },
    { op: 'ReduceSum', inputs: ['tw', 'axis2'], outputs: ['tsum'], attributes: { keepdims: 0 } },
    { op: 'Add', inputs: ['tsum', 'bo'], outputs: ['towers'] },
    { op: 'Mul', inputs: ['routing', 'towers'], outputs: ['mixed'] },
    { op: 'ReduceSum', inputs: ['mixed', 'axis1'], outputs: ['logit'], attributes: { keepdims: 0 } },
    { op: 'Sigmoid', inputs: ['logit'], outputs: ['pctr'] },
  ];
  const bytes = encodeOnnxModel({
    name: 'synthetic_ctr',
    inputs: [
      { name: 'user_bucket', type: 'int64', shape: ['B'] },
      { name: 'item_bucket', type: 'int64', shape: ['B'] },
      { name: 'domain', type: 'int64', shape: ['B'] },
      { name: 'item_dense', type: 'float32', shape: ['B', G1] },
      { name: 'item_emb', type: 'float32', shape: ['B', d] },
      { name: 'sdim_interest', type: 'float32', shape: ['B', d] },
    ],
    outputs: [
      { name: 'pctr', type: 'float32', shape: ['B'] },
      { name: 'routing', type: 'float32', shape: ['B', K] },
    ],
    initializers,
    nodes,
  });
  return { bytes, spec };
}
