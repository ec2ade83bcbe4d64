import type { Logger } from 'pino';
import { loadModel, ModelRejected, type LoadedModel, type LoadModelOptions } from './loaded-model';
import type { ModelHead, ModelRegistry } from './model-registry';

export type Slot = 'live' | 'shadow';

export interface ModelManagerHooks {
  onSwap?(slot: Slot, from: string | undefined, to: string | undefined, loadMs: number): void;
  onLoadFailure?(slot: Slot, version: string, error: Error): void;
}

interface LoadFailure {
  slot: Slot;
  version: string;
  checksum: string;
  message: string;
  at: string;
}

/**
 * Keeps this replica's live and shadow models equal to the registry's. A pass reads the heads
 * (version + checksum) of the model name, loads what changed (fully: parse, load, check, warm-up)
 * while the old models keep serving, then swaps both slot references in one synchronous step and
 * retires the models no slot holds any more (freed when their last request finishes).
 * Passes never overlap; a request for a pass while one runs schedules exactly one more.
 * A version rejected at load (spec, deployment or model checks) is not retried (same checksum) and
 * the slot keeps its old model.
 */
export class ModelManager {
  live?: LoadedModel;
  shadow?: LoadedModel;
  private failures = new Map<string, LoadFailure>();
  private running?: Promise<void>;
  private pending?: Promise<void>;
  private closed = false;
  /** What the registry said at the last pass. */
  desired: { live?: ModelHead; shadow?: ModelHead } = {};
  lastPassAt?: Date;

  constructor(
    readonly name: string,
    private readonly registry: ModelRegistry,
    private readonly options: LoadModelOptions,
    private readonly log: Logger,
    private readonly hooks: ModelManagerHooks = {},
  ) {}

  /** Brings the slots up to date with the registry; resolves after a pass that started after this call. */
  reconcile(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.running) {
      this.running = this.pass().finally(() => (this.running = undefined));
      return this.running;
    }
    this.pending ??= this.running.then(
      () => {
        this.pending = undefined;
        return this.reconcile();
      },
      () => {
        this.pending = undefined;
        return this.reconcile();
      },
    );
    return this.pending;
  }

  /** Load failures that keep this replica from serving what the registry asks. */
  problems(): LoadFailure[] {
    const out: LoadFailure[] = [];
    for (const slot of ['live', 'shadow'] as const) {
      const head = this.desired[slot];
      const f = head && this.failures.get(`${slot}:${head.checksum}`);
      if (f && this[slot]?.checksum !== head.checksum) out.push(f);
    }
    return out;
  }

  describe() {
    return { live: this.live?.describe() ?? null, shadow: this.shadow?.describe() ?? null, problems: this.problems(), lastPassAt: this.lastPassAt?.toISOString() ?? null };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => undefined);
    const models = new Set([this.live, this.shadow].filter((m): m is LoadedModel => !!m));
    this.live = this.shadow = undefined;
    await Promise.all([...models].map((m) => m.retire()));
  }

  private async pass(): Promise<void> {
    const heads = await this.registry.heads(this.name);
    this.desired = heads;
    const nextLive = await this.resolve('live', heads.live);
    const nextShadow = await this.resolve('shadow', heads.shadow);
    if (this.closed) {
      for (const m of [nextLive, nextShadow]) if (m && m !== this.live && m !== this.shadow) await m.retire();
      return;
    }
    const before = { live: this.live, shadow: this.shadow };
    // The swap: two reference assignments with no await in between, so a request sees either the
    // old pair or the new pair.
    this.live = nextLive;
    this.shadow = nextShadow;
    this.lastPassAt = new Date();
    for (const slot of ['live', 'shadow'] as const) {
      const was = before[slot];
      const now = slot === 'live' ? nextLive : nextShadow;
      if (was !== now) {
        this.log.info({ model: this.name, slot, from: was?.version ?? null, to: now?.version ?? null, loadMs: now?.loadMs }, 'model swapped');
        this.hooks.onSwap?.(slot, was?.version, now?.version, now?.loadMs ?? 0);
      }
    }
    for (const m of new Set([before.live, before.shadow])) if (m && m !== nextLive && m !== nextShadow) void m.retire();
  }

  /** The model a slot should hold for a head: a loaded one when it matches, else a fresh load. */
  private async resolve(slot: Slot, head: ModelHead | undefined): Promise<LoadedModel | undefined> {
    if (!head) return undefined;
    for (const m of [this.live, this.shadow]) if (m && m.version === head.version && m.checksum === head.checksum) return m;
    const key = `${slot}:${head.checksum}`;
    const keep = this[slot];
    if (this.failures.has(key)) return keep;
    try {
      const rec = await this.registry.artifact(this.name, head.version);
      return await loadModel(this.options, { name: this.name, version: rec.version, artifact: rec.artifact, featureSpec: rec.featureSpec, checksum: rec.checksum });
    } catch (e) {
      // A transient failure (database down) fails the pass: the next trigger retries. A model
      // that cannot be served here is remembered and not loaded again.
      if (!(e instanceof ModelRejected)) throw e;
      const err = e as Error;
      this.failures.set(key, { slot, version: head.version, checksum: head.checksum, message: err.message, at: new Date().toISOString() });
      this.log.error({ model: this.name, slot, version: head.version, err: err.message }, 'model load failed; the slot keeps its current model');
      this.hooks.onLoadFailure?.(slot, head.version, err);
      return keep;
    }
  }
}
