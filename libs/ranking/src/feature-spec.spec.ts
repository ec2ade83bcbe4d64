import assert from 'node:assert/strict';
import { checkDeployment, checkModelIo, featureKey, FeatureSpecError, parseFeatureSpec } from './feature-spec';
import { exampleFeatureSpec } from './spec-fixture';
import type { TensorInfo } from '@recsys/infra/model-runner/model-runner.port';

const base = () => JSON.parse(JSON.stringify(exampleFeatureSpec()));

function problems(input: unknown): string[] {
  try {
    parseFeatureSpec(input);
    return [];
  } catch (e) {
    assert.ok(e instanceof FeatureSpecError);
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('feature spec v1', () => {
  it('parses the contract example and keeps unknown extra fields', () => {
    const s = parseFeatureSpec({ ...base(), extra: { note: 1 } });
    assert.equal(s.hash.itemBuckets, 4096);
    assert.equal(s.itemDense.genres.length, 19);
    assert.deepEqual((s as Record<string, unknown>).extra, { note: 1 });
  });

  it('lists every problem at once', () => {
    const bad = base();
    bad.specVersion = 2;
    bad.hash.fn = 'murmur';
    bad.sdim.d = 16;
    bad.outputs = ['pctr'];
    bad.domains = ['a', 'a'];
    bad.itemDense.yearScale = 0;
    const p = problems(bad);
    for (const want of [/specVersion/, /hash\.fn/, /outputs: outputs must include 'routing'/, /domains must be unique/, /yearScale: must not be 0/]) {
      assert.ok(
        p.some((x) => want.test(x)),
        `${want} in ${JSON.stringify(p)}`,
      );
    }
  });

  it('checks the inputs against the contract: names, dtypes, ranks, column counts', () => {
    const bad = base();
    bad.inputs[0].dtype = 'float32';
    bad.inputs[3].shape = [-1, 5];
    bad.inputs[4].shape = [-1];
    bad.inputs.push({ name: 'user_bucket', dtype: 'int64', shape: [-1] });
    const p = problems(bad);
    assert.ok(
      p.some((x) => /user_bucket must be int64/.test(x)),
      JSON.stringify(p),
    );
    assert.ok(
      p.some((x) => /item_dense must have 20 columns, not 5/.test(x)),
      JSON.stringify(p),
    );
    assert.ok(
      p.some((x) => /item_emb must have rank 2/.test(x)),
      JSON.stringify(p),
    );
    assert.ok(
      p.some((x) => /input names must be unique/.test(x)),
      JSON.stringify(p),
    );
    const unknown = base();
    unknown.inputs[0].name = 'user_age';
    assert.ok(problems(unknown).some((x) => x.startsWith('inputs.0.name')));
    const symbolic = base();
    symbolic.inputs[3].shape = ['B', 20];
    assert.deepEqual(problems(symbolic), []);
  });

  it('checkDeployment names every mismatch with the SDIM hash functions and embedding size', () => {
    const s = exampleFeatureSpec();
    assert.deepEqual(checkDeployment(s, { sdim: { seed: 20240501, m: 48, tau: 3, d: 32 }, embeddingDim: 32 }), []);
    const p = checkDeployment(s, { sdim: { seed: 1, m: 48, tau: 4, d: 32 }, embeddingDim: 64 });
    assert.equal(p.length, 3, JSON.stringify(p));
    assert.match(p.join('\n'), /sdim\.seed is 20240501 in the spec but 1/);
    assert.match(p.join('\n'), /sdim\.tau/);
    assert.match(p.join('\n'), /EMBEDDING_DIM is 64/);
  });

  it('checkModelIo compares the model inputs/outputs with the spec', () => {
    const s = exampleFeatureSpec();
    const io = (name: string, dtype: TensorInfo['dtype'], shape: number[]): TensorInfo => ({ name, dtype, shape });
    const inputs = [
      io('user_bucket', 'int64', [-1]),
      io('item_bucket', 'int64', [-1]),
      io('domain', 'int64', [-1]),
      io('item_dense', 'float32', [-1, 20]),
      io('item_emb', 'float32', [-1, 32]),
      io('sdim_interest', 'float32', [-1, 32]),
    ];
    const outputs = [io('pctr', 'float32', [-1]), io('routing', 'float32', [-1, 4])];
    assert.deepEqual(checkModelIo(s, inputs, outputs), []);
    const p = checkModelIo(
      s,
      [...inputs.slice(0, 3), io('item_dense', 'float32', [-1, 19]), io('item_emb', 'float32', [8, 32]), io('extra', 'float32', [-1])],
      [io('pctr', 'float32', [-1]), io('routing', 'float32', [-1, 3])],
    );
    const text = p.join('\n');
    assert.match(text, /item_dense' has 19 columns/);
    assert.match(text, /fixed batch dimension 8/);
    assert.match(text, /no input 'sdim_interest'/);
    assert.match(text, /takes input 'extra'/);
    assert.match(text, /routing' has 3 columns, model.routingDim is 4/);
    assert.match(checkModelIo(s, inputs, [io('routing', 'float32', [-1, 4])]).join(), /no output 'pctr'/);
  });

  it('featureKey ignores the model block and training metadata but not the features', () => {
    const a = exampleFeatureSpec();
    const b = exampleFeatureSpec({ model: { name: 'ctr', kind: 'mmoe', routingDim: 3 }, training: { seed: 9 } });
    const c = exampleFeatureSpec({ hash: { fn: 'fnv1a32', userBuckets: 1024, itemBuckets: 4096 } });
    assert.equal(featureKey(a), featureKey(b));
    assert.notEqual(featureKey(a), featureKey(c));
  });
});
