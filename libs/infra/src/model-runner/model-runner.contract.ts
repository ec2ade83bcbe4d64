import assert from 'node:assert/strict';
import { ModelInputError, ModelLoadError, ModelReleasedError, type ModelRunner, type ModelSession } from './model-runner.port';
import { encodeOnnxModel } from './onnx-writer';

/**
 * A tiny model built here, no fixture: logit = x @ W + b + E[k]; y = sigmoid(logit).
 * x float32 [B, 3], k int64 [B]; outputs y and logit, float32 [B, 2].
 */
export const TINY = {
  W: [0.5, -1, 0.25, 2, -0.75, 0.125],
  b: [0.1, -0.2],
  E: [0, 0, 1, -1, 0.5, 0.5, -2, 3],
};

export function tinyModel(): Buffer {
  return encodeOnnxModel({
    name: 'tiny',
    inputs: [
      { name: 'x', type: 'float32', shape: ['B', 3] },
      { name: 'k', type: 'int64', shape: ['B'] },
    ],
    outputs: [
      { name: 'y', type: 'float32', shape: ['B', 2] },
      { name: 'logit', type: 'float32', shape: ['B', 2] },
    ],
    initializers: [
      { name: 'W', type: 'float32', dims: [3, 2], values: TINY.W },
      { name: 'b', type: 'float32', dims: [2], values: TINY.b },
      { name: 'E', type: 'float32', dims: [4, 2], values: TINY.E },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
      { op: 'Add', inputs: ['xw', 'b'], outputs: ['xwb'] },
      { op: 'Gather', inputs: ['E', 'k'], outputs: ['ek'], attributes: { axis: 0 } },
      { op: 'Add', inputs: ['xwb', 'ek'], outputs: ['logit'] },
      { op: 'Sigmoid', inputs: ['logit'], outputs: ['y'] },
    ],
  });
}

/** The same function in float64 JS, for the expected values. */
export function tinyExpected(x: number[][], k: number[]): { logit: number[][]; y: number[][] } {
  const logit = x.map((row, n) => [0, 1].map((j) => row[0] * TINY.W[j] + row[1] * TINY.W[2 + j] + row[2] * TINY.W[4 + j] + TINY.b[j] + TINY.E[k[n] * 2 + j]));
  return { logit, y: logit.map((r) => r.map((v) => 1 / (1 + Math.exp(-v)))) };
}

const feeds = (x: number[][], k: number[]) => ({
  x: { dtype: 'float32' as const, data: Float32Array.from(x.flat()), dims: [x.length, 3] },
  k: { dtype: 'int64' as const, data: BigInt64Array.from(k.map(BigInt)), dims: [k.length] },
});

function assertClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}] = ${actual[i]}, expected ${expected[i]}`);
}

/** Behaviour every ModelRunner adapter must show. */
export function modelRunnerContract(name: string, make: () => ModelRunner): void {
  describe(`ModelRunner contract: ${name}`, () => {
    const runner = make();
    let session: ModelSession;
    beforeAll(async () => {
      session = await runner.load(tinyModel());
    });
    afterAll(async () => {
      await session.release();
    });

    it('exposes input and output names, dtypes and shapes (symbolic dims as -1)', () => {
      assert.deepEqual([...session.inputNames], ['x', 'k']);
      assert.deepEqual([...session.outputNames].sort(), ['logit', 'y']);
      assert.deepEqual(
        Array.from(session.inputs, (i) => [i.name, i.dtype, [...i.shape]]),
        [
          ['x', 'float32', [-1, 3]],
          ['k', 'int64', [-1]],
        ],
      );
      const y = session.outputs.find((o) => o.name === 'y')!;
      assert.equal(y.dtype, 'float32');
      assert.deepEqual([...y.shape], [-1, 2]);
    });

    it('scores a batch: outputs equal the float64 computation within float32 rounding', async () => {
      const x = [
        [1, 2, 3],
        [-1, 0.5, 0],
        [0, 0, 0],
        [10, -10, 4],
      ];
      const k = [0, 1, 2, 3];
      const out = await session.run(feeds(x, k));
      const want = tinyExpected(x, k);
      assert.equal(out.y.dtype, 'float32');
      assert.deepEqual([...out.y.dims], [4, 2]);
      assertClose(out.y.data as Float32Array, want.y.flat(), 1e-6, 'y');
      assertClose(out.logit.data as Float32Array, want.logit.flat(), 1e-5, 'logit');
    });

    it('the batch axis is dynamic: 1 and 1000 rows', async () => {
      for (const n of [1, 1000]) {
        const x = Array.from({ length: n }, (_, i) => [Math.sin(i), Math.cos(i), i % 7]);
        const k = Array.from({ length: n }, (_, i) => i % 4);
        const out = await session.run(feeds(x, k), ['y']);
        assert.deepEqual(Object.keys(out), ['y'], 'only the requested output');
        assertClose(out.y.data as Float32Array, tinyExpected(x, k).y.flat(), 1e-6, `y (n=${n})`);
      }
    });

    it('overlapping runs each get their own outputs', async () => {
      const xs = Array.from({ length: 8 }, (_, r) => [[r, -r, 1]]);
      const outs = await Promise.all(xs.map((x) => session.run(feeds(x, [r4(x)]))));
      outs.forEach((o, r) => assertClose(o.y.data as Float32Array, tinyExpected(xs[r], [r4(xs[r])]).y.flat(), 1e-6, `run ${r}`));
      function r4(x: number[][]) {
        return Math.abs(x[0][0]) % 4;
      }
    });

    it('rejects bad feeds with ModelInputError naming every problem, before running', async () => {
      const good = feeds([[1, 2, 3]], [0]);
      await assert.rejects(session.run({ x: good.x }), (e: Error) => e instanceof ModelInputError && /missing input 'k'/.test(e.message));
      await assert.rejects(
        session.run({ x: { dtype: 'float32', data: new Float32Array(4), dims: [1, 4] }, k: { dtype: 'float32', data: new Float32Array(1), dims: [1] } }),
        (e: Error) => e instanceof ModelInputError && /dim 1 is 4/.test(e.message) && /k' is float32/.test(e.message),
      );
      await assert.rejects(session.run({ ...good, z: good.k }), (e: Error) => e instanceof ModelInputError && /unknown input 'z'/.test(e.message));
      await assert.rejects(
        session.run({ ...good, x: { dtype: 'float32', data: new Float32Array(5), dims: [2, 3] } }),
        (e: Error) => e instanceof ModelInputError && /5 values for dims \[2, 3\]/.test(e.message),
      );
    });

    it('rejects bytes that are not a model with ModelLoadError', async () => {
      await assert.rejects(runner.load(Buffer.from('definitely not onnx')), ModelLoadError);
      await assert.rejects(runner.load(new Uint8Array(0)), ModelLoadError);
    });

    it('loads with two intra-op threads and gives the same scores', async () => {
      const s2 = await runner.load(tinyModel(), { intraOpThreads: 2 });
      try {
        const x = Array.from({ length: 64 }, (_, i) => [i / 10, 1 - i / 50, -i / 30]);
        const k = x.map((_, i) => (i * 3) % 4);
        const [a, b] = await Promise.all([session.run(feeds(x, k)), s2.run(feeds(x, k))]);
        assert.deepEqual(Array.from(a.y.data as Float32Array), Array.from(b.y.data as Float32Array));
      } finally {
        await s2.release();
      }
      await assert.rejects(runner.load(tinyModel(), { intraOpThreads: 0 }), RangeError);
    });

    it('a released session rejects runs with ModelReleasedError; release is idempotent', async () => {
      const s = await runner.load(tinyModel());
      await s.run(feeds([[1, 1, 1]], [1]));
      await s.release();
      await s.release();
      await assert.rejects(s.run(feeds([[1, 1, 1]], [1])), ModelReleasedError);
    });
  });
}
