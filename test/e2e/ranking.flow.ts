import assert from 'node:assert/strict';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { TOPICS } from '@recsys/contracts';
import { OnnxModelRunner } from '@recsys/infra/model-runner/model-runner.onnx.adapter';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import { FeatureAssembler, ItemFeatureTable, MOVIELENS_GENRES, type FeatureSpec } from '@recsys/ranking';
import { hasherFor, readUserTables } from '@recsys/sdim';
import { eventually, getJson, postJson } from '../support/suite';

export const DIM = 32;

export interface CatalogItem {
  itemId: string;
  embedding: number[];
  genres: string[];
  year?: number;
}

/** Deterministic items with embeddings on a 1e-4 grid, a couple of genres and (mostly) a year. */
export function makeItems(n: number, prefix = 'it'): CatalogItem[] {
  return Array.from({ length: n }, (_, i) => ({
    itemId: `${prefix}-${i}`,
    embedding: Array.from({ length: DIM }, (_, k) => Math.round(Math.cos(i * 0.37 + k * 1.1) * 1e4) / 1e4),
    genres: [MOVIELENS_GENRES[1 + (i % 18)], MOVIELENS_GENRES[1 + ((i * 7) % 18)]],
    ...(i % 5 === 4 ? {} : { year: 1930 + (i % 70) }),
  }));
}

export const catalogEvents = (items: CatalogItem[], tag: string) =>
  items.map((it, i) => ({
    eventId: `cat-${tag}-${i}`,
    key: it.itemId,
    timestamp: Date.now(),
    schemaVersion: 1,
    op: 'upsert',
    namespace: 'items',
    itemId: it.itemId,
    embedding: it.embedding,
    attributes: { genres: it.genres, ...(it.year !== undefined ? { year: it.year } : {}) },
  }));

export const clickEvents = (userId: string, itemIds: string[], tag: string) =>
  itemIds.map((itemId, j) => ({ eventId: `clk-${tag}-${userId}-${j}`, key: userId, timestamp: Date.now() - (itemIds.length - j) * 1000, schemaVersion: 1, userId, itemId, type: 'click' }));

export async function registerModel(rankingUrl: string, name: string, version: string, bytes: Buffer, spec: unknown, metrics?: object) {
  return postJson(`${rankingUrl}/v1/models/${name}/versions/${version}`, { artifactBase64: bytes.toString('base64'), featureSpec: spec, ...(metrics ? { metrics } : {}) });
}

export async function promote(rankingUrl: string, name: string, version: string, to: 'live' | 'shadow') {
  const r = await postJson(`${rankingUrl}/v1/models/${name}/versions/${version}/promote`, { to });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Waits until a ranking replica serves `version` live (and `shadow`, when given; null = none). */
export async function waitServing(rankingUrl: string, live: string, shadow?: string | null, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const s = await getJson(`${rankingUrl}/v1/status`);
      const m = s.body.models;
      return m.live?.version === live && (shadow === undefined || (m.shadow?.version ?? null) === shadow) ? s.body : undefined;
    },
    timeoutMs,
    25,
  );
}

/**
 * Scores the way the service should, outside it: the same model bytes in a session of our own,
 * features assembled from the catalog items and the tables the behavior service stored.
 */
export class ReferenceScorer {
  private readonly table: ItemFeatureTable;
  private readonly assembler: FeatureAssembler;
  private constructor(
    readonly spec: FeatureSpec,
    private readonly session: Awaited<ReturnType<OnnxModelRunner['load']>>,
    items: CatalogItem[],
  ) {
    const hasher = hasherFor(spec.sdim);
    this.table = new ItemFeatureTable(hasher);
    for (const it of items) this.table.upsert(it);
    this.assembler = new FeatureAssembler(spec, hasher);
  }

  static async create(bytes: Buffer, spec: FeatureSpec, items: CatalogItem[]) {
    return new ReferenceScorer(spec, await new OnnxModelRunner().load(bytes), items);
  }

  async score(state: StateStore, userId: string, domain: string, itemIds: string[]): Promise<Map<string, number>> {
    const tables = await readUserTables(state, userId);
    const f = this.assembler.assemble({ userId, domain, itemIds, tables }, (id) => this.table.get(id));
    const out = await this.session.run(f.feeds, ['pctr']);
    const p = out.pctr.data as Float32Array;
    return new Map(itemIds.map((id, i) => [id, p[i]]));
  }

  release() {
    return this.session.release();
  }
}

export function syntheticVersions() {
  return {
    v1: syntheticCtrModel({ seed: 1 }),
    v2: syntheticCtrModel({ seed: 2, logitScale: 3 }),
  };
}

/** Publishes the catalog and clicks, waits until both the behavior and the ranking side have them. */
export async function seedCatalogAndHistory(opts: {
  produce: (topic: string, events: object[]) => Promise<void>;
  behaviorUrl: string;
  rankingUrl: string;
  items: CatalogItem[];
  users: Record<string, string[]>;
  tag: string;
}) {
  await opts.produce(TOPICS.catalogItems, catalogEvents(opts.items, opts.tag));
  await eventually(async () => (await getJson(`${opts.rankingUrl}/v1/status`)).body.catalog.items >= opts.items.length, 30_000, 50);
  for (const [user, clicks] of Object.entries(opts.users)) await opts.produce(TOPICS.userBehaviors, clickEvents(user, clicks, opts.tag));
  for (const [user, clicks] of Object.entries(opts.users)) {
    await eventually(async () => (await getJson(`${opts.behaviorUrl}/v1/users/${user}/history?limit=1`)).body.total === clicks.length, 30_000, 50);
  }
}

export interface RankQuery {
  userId: string;
  domain: string;
  candidates: string[];
}

/**
 * Clients that POST /v1/rank in a loop (round robin over `urls`) until stopped, checking every
 * response: status 200 and every score equal to what the model named in x-model-version gives
 * for that request (`expected[version][query index]`).
 */
export function hammer(urls: string[], queries: RankQuery[], expected: Record<string, Map<string, number>[]>, clients = 8) {
  let stopped = false;
  const seen: Record<string, number> = {};
  const failures: string[] = [];
  const latencies: number[] = [];
  const client = async (c: number) => {
    for (let n = 0; !stopped; n++) {
      const qi = (c + n) % queries.length;
      const url = urls[(c + n) % urls.length];
      const started = performance.now();
      try {
        const res = await fetch(`${url}/v1/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(queries[qi]) });
        const body = (await res.json()) as { itemId: string; pctr: number }[];
        latencies.push(performance.now() - started);
        if (res.status !== 200) {
          failures.push(`${url}: status ${res.status}: ${JSON.stringify(body)}`);
          continue;
        }
        const v = res.headers.get('x-model-version') ?? '?';
        seen[v] = (seen[v] ?? 0) + 1;
        const want = expected[v]?.[qi];
        if (!want) failures.push(`${url}: unexpected version ${v}`);
        else if (body.length !== want.size || body.some((x) => x.pctr !== want.get(x.itemId))) failures.push(`${url} query ${qi}: scores are not all from ${v}`);
      } catch (e) {
        failures.push(`${url}: ${(e as Error).message}`);
      }
    }
  };
  const running = Array.from({ length: clients }, (_, c) => client(c));
  return {
    async stop() {
      stopped = true;
      await Promise.all(running);
      const sorted = [...latencies].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
      return { total: latencies.length, seen, failures, p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] ?? NaN };
    },
  };
}

/** What each version should answer for each query (computed outside the service). */
export async function expectedScores(refs: Record<string, ReferenceScorer>, state: StateStore, queries: RankQuery[]) {
  const out: Record<string, Map<string, number>[]> = {};
  for (const [v, ref] of Object.entries(refs)) {
    out[v] = [];
    for (const q of queries) out[v].push(await ref.score(state, q.userId, q.domain, [...new Set(q.candidates)]));
  }
  return out;
}
