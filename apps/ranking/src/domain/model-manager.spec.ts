import assert from 'node:assert/strict';
import pino from 'pino';
import { OnnxModelRunner } from '@recsys/infra/model-runner/model-runner.onnx.adapter';
import type { ModelLoadOptions, ModelRunner, ModelSession } from '@recsys/infra/model-runner/model-runner.port';
import { syntheticCtrModel } from '../testing/synthetic-model';
import { sha256 } from './loaded-model';
import { ModelManager } from './model-manager';
import type { ModelHead, ModelRegistry, ModelVersionRecord } from './model-registry';

const versions = {
  v1: syntheticCtrModel({ seed: 1 }),
  v2: syntheticCtrModel({ seed: 2 }),
  bad: { ...syntheticCtrModel({ seed: 3 }), spec: { ...syntheticCtrModel().spec, sdim: { ...syntheticCtrModel().spec.sdim, seed: 99 } } },
};
type V = keyof typeof versions;

/** A registry whose heads the test sets; counts artefact reads (= load attempts). */
function fakeRegistry() {
  const state: { live?: V; shadow?: V; reads: number; headsCalls: number } = { reads: 0, headsCalls: 0 };
  const head = (v?: V): ModelHead | undefined => (v ? { version: v, checksum: sha256(versions[v].bytes) } : undefined);
  const registry = {
    async heads() {
      state.headsCalls++;
      return { live: head(state.live), shadow: head(state.shadow) };
    },
    async artifact(_name: string, version: string): Promise<ModelVersionRecord> {
      state.reads++;
      const m = versions[version as V];
      return { name: 'ctr', version, checksum: sha256(m.bytes), artifact: m.bytes, featureSpec: m.spec } as unknown as ModelVersionRecord;
    },
  } as unknown as ModelRegistry;
  return { state, registry };
}

/** Records which sessions were released. */
class TrackingRunner implements ModelRunner {
  readonly kind = 'tracking';
  readonly released: ModelSession[] = [];
  private readonly inner = new OnnxModelRunner();
  async load(bytes: Uint8Array, o?: ModelLoadOptions): Promise<ModelSession> {
    const s = await this.inner.load(bytes, o);
    const released = this.released;
    return new Proxy(s, {
      get(target, prop, recv) {
        if (prop === 'release') return async () => (released.push(s), target.release());
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}

const deployment = { sdim: { seed: 20240501, m: 48, tau: 3, d: 32 }, embeddingDim: 32 };
const log = pino({ level: 'silent' });

describe('ModelManager', () => {
  it('swaps without releasing a model that a request still holds; frees it after the last release', async () => {
    const { state, registry } = fakeRegistry();
    const runner = new TrackingRunner();
    const swaps: string[] = [];
    const m = new ModelManager('ctr', registry, { runner, deployment, intraOpThreads: 1 }, log, { onSwap: (slot, from, to) => swaps.push(`${slot}:${from}->${to}`) });
    state.live = 'v1';
    await m.reconcile();
    const held = m.live!.acquire();
    assert.equal(held.version, 'v1');
    state.live = 'v2';
    await m.reconcile();
    assert.equal(m.live?.version, 'v2');
    assert.equal(runner.released.length, 0, 'v1 is still in use');
    assert.equal(held.isRetired, true);
    const f = held.assembler.assemble({ userId: 'u', domain: 'drama', itemIds: ['a', 'b'], tables: null }, () => undefined);
    const out = await held.session.run(f.feeds, ['pctr']);
    assert.equal(out.pctr.data.length, 2, 'the retired model still scores its in-flight request');
    held.release();
    await held.whenFreed();
    assert.equal(runner.released.length, 1);
    assert.throws(() => held.acquire(), /already released/);
    assert.deepEqual(swaps, ['live:undefined->v1', 'live:v1->v2']);
    await m.close();
    assert.equal(runner.released.length, 2);
  });

  it('a shadow promoted live moves its loaded model (no reload); an unservable version keeps the old one and is not retried', async () => {
    const { state, registry } = fakeRegistry();
    const m = new ModelManager('ctr', registry, { runner: new OnnxModelRunner(), deployment, intraOpThreads: 1 }, log);
    state.live = 'v1';
    state.shadow = 'v2';
    await m.reconcile();
    const shadow = m.shadow;
    assert.equal(state.reads, 2);
    state.live = 'v2';
    state.shadow = undefined;
    await m.reconcile();
    assert.equal(m.live, shadow, 'same instance');
    assert.equal(m.shadow, undefined);
    assert.equal(state.reads, 2, 'nothing loaded');

    state.live = 'bad';
    await m.reconcile();
    await m.reconcile();
    assert.equal(m.live?.version, 'v2', 'still serving v2');
    assert.equal(state.reads, 3, 'the rejected version was tried once');
    assert.equal(m.problems().length, 1);
    assert.match(m.problems()[0].message, /sdim\.seed is 99/);
    state.live = 'v1';
    await m.reconcile();
    assert.equal(m.live?.version, 'v1');
    assert.deepEqual(m.problems(), []);
    await m.close();
  });

  it('concurrent reconcile calls coalesce into at most one extra pass', async () => {
    const { state, registry } = fakeRegistry();
    const m = new ModelManager('ctr', registry, { runner: new OnnxModelRunner(), deployment, intraOpThreads: 1 }, log);
    state.live = 'v1';
    await Promise.all(Array.from({ length: 10 }, () => m.reconcile()));
    assert.ok(state.headsCalls <= 2, `${state.headsCalls} passes`);
    assert.equal(state.reads, 1);
    await m.close();
  });
});
