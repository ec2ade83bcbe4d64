import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Metric, SearchFilter, SearchHit, VectorIndex } from '@recsys/ann/vector-index.port';
import type { IndexKind, IndexFactory } from './index-factory';

/** A catalog item event as the index applies it (already validated by the contracts). */
export interface CatalogChange {
  op: 'upsert' | 'delete';
  namespace: string;
  itemId: string;
  group?: string;
  embedding?: number[];
}

export class CatalogChangeRejected extends Error {
  constructor(
    readonly code: 'dimension_mismatch' | 'vector_not_finite',
    message: string,
  ) {
    super(message);
  }
}

export interface NamespaceInfo {
  namespace: string;
  kind: IndexKind;
  dim: number;
  metric: Metric;
  size: number;
  memoryBytes: number;
  params: Record<string, unknown>;
  upserts: number;
  deletes: number;
  updatedAt: number | null;
}

interface Namespace {
  index: VectorIndex;
  upserts: number;
  deletes: number;
  updatedAt: number | null;
}

/** topic -> partition -> offset of the last record applied. */
export type AppliedOffsets = Record<string, Record<number, string>>;

interface Manifest {
  version: 1;
  createdAt: number;
  offsets: AppliedOffsets;
  namespaces: { namespace: string; kind: IndexKind; dim: number; metric: Metric; dir: string }[];
}

const MANIFEST = 'manifest.json';

/**
 * The retrieval service's state: one vector index per namespace (`items`, `ads`, ...) plus the
 * offsets of the last catalog record applied to them. A namespace's dimension is fixed by its
 * first upsert; a later vector of another dimension is rejected (and dead-lettered by the caller).
 *
 * Invariant for restarts: a snapshot holds exactly the effects of the records up to its offsets,
 * because apply() and snapshot() never interleave (the gate). Replaying from those offsets after a
 * load re-applies nothing twice and loses nothing.
 */
export class CatalogIndex {
  private readonly namespaces = new Map<string, Namespace>();
  private readonly applied: AppliedOffsets = {};
  private gate: Promise<void> = Promise.resolve();
  private snapshots = 0;

  constructor(
    private readonly factory: IndexFactory,
    private readonly defaults: { kind: IndexKind; metric: Metric },
  ) {}

  /** Applies one change; `position` records the log offset it came from. */
  async apply(change: CatalogChange, position?: { topic: string; partition: number; offset: string }): Promise<void> {
    await this.gate;
    this.applyNow(change);
    if (position) this.recordOffset(position.topic, position.partition, position.offset);
  }

  /** Applies n changes through fn(i) with the gate held once for the whole batch. */
  async applyBatch(n: number, fn: (i: number) => void): Promise<void> {
    await this.gate;
    for (let i = 0; i < n; i++) fn(i);
  }

  applyNow(change: CatalogChange): void {
    if (change.op === 'delete') {
      const ns = this.namespaces.get(change.namespace);
      if (ns?.index.remove(change.itemId)) {
        ns.deletes++;
        ns.updatedAt = Date.now();
      }
      return;
    }
    const v = change.embedding!;
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new CatalogChangeRejected('vector_not_finite', `embedding[${i}] is not a finite number`);
    }
    let ns = this.namespaces.get(change.namespace);
    if (!ns) {
      ns = { index: this.factory.create(this.defaults.kind, change.namespace, v.length, this.defaults.metric), upserts: 0, deletes: 0, updatedAt: null };
      this.namespaces.set(change.namespace, ns);
    }
    if (v.length !== ns.index.dim) {
      throw new CatalogChangeRejected('dimension_mismatch', `namespace '${change.namespace}' has dimension ${ns.index.dim}, embedding has ${v.length}`);
    }
    ns.index.upsert(change.itemId, v, change.group);
    ns.upserts++;
    ns.updatedAt = Date.now();
  }

  recordOffset(topic: string, partition: number, offset: string): void {
    (this.applied[topic] ??= {})[partition] = offset;
  }

  appliedOffsets(): AppliedOffsets {
    return JSON.parse(JSON.stringify(this.applied));
  }

  /** Offsets to resume consuming from: one past each applied record. */
  resumeOffsets(): Record<string, Record<number, string>> {
    const out: Record<string, Record<number, string>> = {};
    for (const [topic, parts] of Object.entries(this.applied)) {
      out[topic] = {};
      for (const [p, off] of Object.entries(parts)) out[topic][Number(p)] = (BigInt(off) + 1n).toString();
    }
    return out;
  }

  get(namespace: string): VectorIndex | undefined {
    return this.namespaces.get(namespace)?.index;
  }

  search(namespace: string, query: number[] | Float32Array, k: number, filter?: SearchFilter): SearchHit[] {
    const ns = this.namespaces.get(namespace);
    if (!ns) return [];
    return ns.index.search(query, k, filter);
  }

  info(): NamespaceInfo[] {
    return [...this.namespaces.entries()].map(([namespace, ns]) => ({
      namespace,
      kind: ns.index.kind,
      dim: ns.index.dim,
      metric: ns.index.metric,
      size: ns.index.size(),
      memoryBytes: Math.round(ns.index.memoryBytes()),
      params: ns.index.params(),
      upserts: ns.upserts,
      deletes: ns.deletes,
      updatedAt: ns.updatedAt,
    }));
  }

  /** Replaces a namespace's index (after a rebuild) atomically between two applies. */
  async replace(namespace: string, index: VectorIndex): Promise<void> {
    await this.withGateClosed(async () => this.replaceUnlocked(namespace, index));
  }

  /** Swap for a caller that already holds the gate; returns the index it replaced. */
  async replaceUnlocked(namespace: string, index: VectorIndex): Promise<VectorIndex | undefined> {
    const prev = this.namespaces.get(namespace);
    this.namespaces.set(namespace, { index, upserts: prev?.upserts ?? 0, deletes: prev?.deletes ?? 0, updatedAt: Date.now() });
    return prev?.index;
  }

  /** Runs fn while no change is applied (snapshots, swaps). */
  async withGateClosed<T>(fn: () => Promise<T>): Promise<T> {
    let open!: () => void;
    const previous = this.gate;
    this.gate = new Promise<void>((r) => (open = r));
    await previous;
    try {
      return await fn();
    } finally {
      open();
    }
  }

  /** Writes every namespace and the applied offsets; the manifest is renamed into place last. */
  async snapshot(dir: string): Promise<{ namespaces: number; offsets: AppliedOffsets }> {
    return this.withGateClosed(async () => {
      // Unique per snapshot: two snapshots in the same millisecond must not share a folder (the
      // second would overwrite the folder the current manifest points to).
      const stamp = `${Date.now().toString(36)}-${(this.snapshots++).toString(36)}`;
      await fsp.mkdir(dir, { recursive: true });
      const manifest: Manifest = { version: 1, createdAt: Date.now(), offsets: this.appliedOffsets(), namespaces: [] };
      for (const [namespace, ns] of this.namespaces) {
        const sub = `${namespace}-${stamp}`;
        await ns.index.save(join(dir, sub));
        manifest.namespaces.push({ namespace, kind: ns.index.kind, dim: ns.index.dim, metric: ns.index.metric, dir: sub });
      }
      const tmp = join(dir, `${MANIFEST}.tmp`);
      await fsp.writeFile(tmp, JSON.stringify(manifest, null, 2));
      const old = await readManifest(dir);
      await fsp.rename(tmp, join(dir, MANIFEST));
      // Earlier snapshot folders are removed only once the new manifest points elsewhere.
      for (const n of old?.namespaces ?? []) {
        if (!manifest.namespaces.some((m) => m.dir === n.dir)) await fsp.rm(join(dir, n.dir), { recursive: true, force: true });
      }
      return { namespaces: manifest.namespaces.length, offsets: manifest.offsets };
    });
  }

  /**
   * Removes everything in a snapshot directory that the current manifest does not point to
   * (folders of snapshots superseded or interrupted before their manifest was written).
   * Returns the removed names.
   */
  async pruneSnapshots(dir: string): Promise<string[]> {
    const manifest = await readManifest(dir);
    if (!manifest) return [];
    const keep = new Set([MANIFEST, ...manifest.namespaces.map((n) => n.dir)]);
    const removed: string[] = [];
    for (const name of await fsp.readdir(dir)) {
      if (keep.has(name)) continue;
      await fsp.rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Loads the last snapshot, if any. Returns false when there is none. */
  async restore(dir: string): Promise<boolean> {
    const manifest = await readManifest(dir);
    if (!manifest) return false;
    for (const n of manifest.namespaces) {
      const index = await this.factory.load(n.kind, join(dir, n.dir));
      this.namespaces.set(n.namespace, { index, upserts: 0, deletes: 0, updatedAt: manifest.createdAt });
    }
    for (const [topic, parts] of Object.entries(manifest.offsets)) {
      for (const [p, off] of Object.entries(parts)) this.recordOffset(topic, Number(p), off);
    }
    return true;
  }
}

async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await fsp.readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
