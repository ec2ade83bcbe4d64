import { createHash } from 'node:crypto';
import type { ModelRunner, ModelSession } from '@recsys/infra/model-runner/model-runner.port';
import { DomainError } from '@recsys/platform/problem';
import { checkDeployment, checkModelIo, FeatureAssembler, FeatureSpecError, parseFeatureSpec, type DeploymentFeatures, type FeatureSpec } from '@recsys/ranking';
import { hasherFor } from '@recsys/sdim';

/**
 * A model version ready to serve: its session, spec and feature assembler, with a reference count.
 * The request path takes a reference (acquire) before it starts and drops it when its runs are
 * done; a replaced model is retired and its native session is released only when the last
 * reference is dropped, so a swap never fails or cuts short a request in flight.
 */
export class LoadedModel {
  private refs = 0;
  private retired = false;
  private freeing = false;
  private resolveFreed!: () => void;
  private readonly freed = new Promise<void>((resolve) => (this.resolveFreed = resolve));

  constructor(
    readonly name: string,
    readonly version: string,
    readonly checksum: string,
    readonly spec: FeatureSpec,
    readonly session: ModelSession,
    readonly assembler: FeatureAssembler,
    readonly loadMs: number,
    readonly loadedAt = new Date(),
  ) {}

  get inFlight(): number {
    return this.refs;
  }

  get isRetired(): boolean {
    return this.retired;
  }

  /** Must be called synchronously right after reading the slot that holds this model. */
  acquire(): this {
    if (this.freeing) throw new Error(`model ${this.name}@${this.version} was already released`);
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.retired) this.free();
  }

  /** No new requests will acquire it; frees the session once the in-flight ones are done. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.refs === 0) this.free();
    return this.whenFreed();
  }

  /** Resolves when the session has been released (after retire() and the last release()). */
  whenFreed(): Promise<void> {
    return this.freed;
  }

  describe() {
    return {
      name: this.name,
      version: this.version,
      checksum: this.checksum,
      kind: this.spec.model.kind,
      loadedAt: this.loadedAt.toISOString(),
      loadMs: Math.round(this.loadMs * 100) / 100,
      inFlight: this.refs,
    };
  }

  private free(): void {
    if (this.freeing) return;
    this.freeing = true;
    this.session
      .release()
      .catch(() => undefined)
      .then(() => this.resolveFreed());
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface LoadModelOptions {
  runner: ModelRunner;
  deployment: DeploymentFeatures;
  intraOpThreads: number;
}

/** Every way a model can be unusable, as a 422 problem with a stable code. */
export class ModelRejected extends DomainError {
  constructor(code: 'feature_spec_invalid' | 'feature_spec_mismatch' | 'model_invalid' | 'model_spec_mismatch', message: string, problems: unknown[]) {
    super(code, 422, message, { problems });
  }
}

/**
 * Parses and checks the spec, loads the artefact, checks the model's inputs and outputs against
 * the spec and scores a warm-up batch (unknown user and items, every domain), so a model that
 * passes can serve at once. Throws ModelRejected otherwise.
 */
export async function loadModel(opts: LoadModelOptions, m: { name: string; version: string; artifact: Uint8Array; featureSpec: unknown; checksum?: string }): Promise<LoadedModel> {
  let spec: FeatureSpec;
  try {
    spec = parseFeatureSpec(m.featureSpec);
  } catch (e) {
    if (e instanceof FeatureSpecError) throw new ModelRejected('feature_spec_invalid', e.message, e.problems);
    throw e;
  }
  const mismatch = checkDeployment(spec, opts.deployment);
  if (mismatch.length) throw new ModelRejected('feature_spec_mismatch', `the feature spec does not fit this deployment: ${mismatch.join('; ')}`, mismatch);
  const started = performance.now();
  let session: ModelSession;
  try {
    session = await opts.runner.load(m.artifact, { intraOpThreads: opts.intraOpThreads });
  } catch (e) {
    throw new ModelRejected('model_invalid', (e as Error).message, [(e as Error).message]);
  }
  try {
    const io = checkModelIo(spec, session.inputs, session.outputs);
    if (io.length) throw new ModelRejected('model_spec_mismatch', `the model does not match its feature spec: ${io.join('; ')}`, io);
    const assembler = new FeatureAssembler(spec, hasherFor(spec.sdim));
    await warmUp(session, assembler, spec);
    return new LoadedModel(m.name, m.version, m.checksum ?? sha256(m.artifact), spec, session, assembler, performance.now() - started);
  } catch (e) {
    await session.release();
    if (e instanceof ModelRejected) throw e;
    throw new ModelRejected('model_invalid', `the model failed its warm-up run: ${(e as Error).message}`, [(e as Error).message]);
  }
}

async function warmUp(session: ModelSession, assembler: FeatureAssembler, spec: FeatureSpec): Promise<void> {
  const ids = Array.from({ length: 8 }, (_, i) => `warm-up-${i}`);
  for (const domain of spec.domains) {
    const f = assembler.assemble({ userId: 'warm-up', domain, itemIds: ids, tables: null }, () => undefined);
    const out = await session.run(f.feeds, ['pctr', 'routing']);
    const pctr = out.pctr?.data;
    const routing = out.routing?.data;
    if (!pctr || pctr.length !== ids.length) throw new Error(`pctr has ${pctr?.length} values for a batch of ${ids.length}`);
    if (!routing || routing.length !== ids.length * spec.model.routingDim) throw new Error(`routing has ${routing?.length} values, expected ${ids.length} x ${spec.model.routingDim}`);
    for (const v of pctr as Float32Array) if (!(v >= 0 && v <= 1)) throw new Error(`pctr ${v} is not a probability`);
  }
}
