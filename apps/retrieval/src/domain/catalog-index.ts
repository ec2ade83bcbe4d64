import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Metric, SearchFilter, SearchHit, VectorIndex } from '@recsys/ann/vector-index.port';
import { embeddingProblem } from '@recsys/contracts';
import type { IndexKind, IndexFactory } from './index-factory';

/** A catalog item event as the index applies it (already validated by the contracts). */
export interface CatalogChange {
  op: 'upsert' | 'delete';
  namespace: string;
  itemId: string;
  group?: string;
  embedding?: number[];
}

/** A change the index can never apply (dead-lettered with `code` by the consumer). */
export class CatalogChangeRejected extends Error {
  readonly permanent = true;
  constructor(
    readonly code: string,
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
 * offsets of the last catalog record applied to them. A namespace's dimension is declared
 * (`defaults.dims`, from NAMESPACE_DIMS): an upsert into an undeclared namespace, or with a vector
 * of another dimension or one that is not a valid embedding (libs/contracts embeddingProblem:
 * finite inside float32, norm bound) is rejected, and dead-lettered by the caller. Without
 * `dims` (tools and older specs) the first upsert of a namespace fixes its dimension.
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
    private readonly defaults: { kind: IndexKind; metric: Metric; dims?: Record<string, number> },
  ) {}

  /** The declared dimension of a namespace (undefined: not declared, or no declarations at all). */
  declaredDim(namespace: string): number | undefined {
    return this.defaults.dims?.[namespace];
  }

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
    const declared = this.defaults.dims ? this.defaults.dims[change.namespace] : undefined;
    if (this.defaults.dims && declared === undefined) {
      throw new CatalogChangeRejected('unknown_namespace', `namespace '${change.namespace}' is not declared (NAMESPACE_DIMS: ${Object.keys(this.defaults.dims).join(', ') || 'none'})`);
    }
    let ns = this.namespaces.get(change.namespace);
    const dim = declared ?? ns?.index.dim;
    const problem = embeddingProblem(v, dim);
    if (problem) {
      const message = problem.code === 'dimension_mismatch' ? `namespace '${change.namespace}' has dimension ${dim}, embedding has ${v.length}` : problem.message;
      throw new CatalogChangeRejected(problem.code, message);
    }
    if (!ns) {
      ns = { index: this.factory.create(this.defaults.kind, change.namespace, dim ?? v.length, this.defaults.metric), upserts: 0, deletes: 0, updatedAt: null };
      this.namespaces.set(change.namespace, ns);
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
      const declared = this.defaults.dims?.[n.namespace];
      if (this.defaults.dims && declared !== n.dim) {
        throw new Error(
          `snapshot in ${dir} holds namespace '${n.namespace}' with dimension ${n.dim}, but NAMESPACE_DIMS declares ${declared ?? 'no such namespace'}: ` +
            'fix NAMESPACE_DIMS, or delete the snapshot directory to rebuild the indexes from catalog.items',
        );
      }
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
