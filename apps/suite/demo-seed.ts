import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import { Rng } from '@recsys/ann/synthetic';
import { TOPICS, type EventInput } from '@recsys/contracts';
import type { EventPublisher } from '@recsys/messaging';

export interface DemoSeedOptions {
  dim: number;
  items?: number;
  ads?: number;
  users?: number;
  seed?: number;
  /** Directory of the shipped demo model (apps/suite/demo-model); found next to the sources by default. */
  modelDir?: string;
}

/** Demo users of the page's switcher: demo-user-0 .. demo-user-19. */
export const DEMO_USERS = 20;

/** apps/suite/demo-model, from the sources or from dist/apps/suite. */
export function demoModelDir(given?: string): string | undefined {
  const candidates = given ? [given] : [join(__dirname, 'demo-model'), resolve(__dirname, '../../../apps/suite/demo-model'), resolve(process.cwd(), 'apps/suite/demo-model')];
  return candidates.find((d) => existsSync(join(d, 'model.onnx')) && existsSync(join(d, 'catalog.jsonl.gz')));
}

const jsonl = (file: string) =>
  gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/**
 * The demo catalog and the demo users' clicks, published through the same topics a real producer
 * uses, so every service builds its state exactly as in production. Event ids are deterministic:
 * seeding twice changes nothing.
 *
 * With the shipped demo model (apps/suite/demo-model: MovieLens-100K, trained by the training CLI)
 * the catalog is the model's own catalog.jsonl (items with the embeddings and attributes the model
 * was trained with; group = primary genre) and demo-user-i clicks what MovieLens user i+1 rated >= 4.
 * Without it, a synthetic clustered catalog (8 genre groups) and synthetic clicks.
 * Ads: `ads` creatives in namespace `ads` near the item clusters (for retrieval of ads).
 */
export async function seedDemo(publisher: EventPublisher, opts: DemoSeedOptions) {
  const dir = demoModelDir(opts.modelDir);
  if (dir && (JSON.parse(readFileSync(join(dir, 'feature-spec.json'), 'utf8')) as { embedding: { dim: number } }).embedding.dim === opts.dim) {
    const catalog = (jsonl(join(dir, 'catalog.jsonl.gz')) as EventInput<'catalog.items'>[]).map((e) => ({
      ...e,
      group: e.group ?? primaryGenre(e.attributes),
    }));
    for (let i = 0; i < catalog.length; i += 500) await publisher.publish(TOPICS.catalogItems, catalog.slice(i, i + 500));
    const clicks = jsonl(join(dir, 'clicks.jsonl.gz')) as EventInput<'user.behaviors'>[];
    for (let i = 0; i < clicks.length; i += 1000) await publisher.publish(TOPICS.userBehaviors, clicks.slice(i, i + 1000));
    return { source: 'demo-model', modelDir: dir, items: catalog.length, users: new Set(clicks.map((c) => c.userId)).size, behaviors: clicks.length };
  }
  return { source: 'synthetic', ...(await seedSynthetic(publisher, opts)) };
}

function primaryGenre(attributes: Record<string, unknown> | undefined): string {
  const g = attributes?.genres;
  return Array.isArray(g) && typeof g[0] === 'string' ? g[0] : 'unknown';
}

async function seedSynthetic(publisher: EventPublisher, opts: DemoSeedOptions) {
  const { dim, items = 2000, ads = 200, users = DEMO_USERS, seed = 7 } = opts;
  const rng = new Rng(seed);
  const clusters = 8;
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => rng.normal() * 2));
  const vec = (c: number) => centers[c].map((x) => Math.round((x + rng.normal() * 0.7) * 1e4) / 1e4);
  const now = Date.now();
  const catalog = [
    ...Array.from({ length: items }, (_, i) => ({ ns: 'items', id: `item-${i}`, c: i % clusters })),
    ...Array.from({ length: ads }, (_, i) => ({ ns: 'ads', id: `ad-${i}`, c: i % clusters })),
  ].map((x) => ({
    eventId: `demo-catalog-${x.ns}-${x.id}`,
    key: x.id,
    timestamp: now,
    schemaVersion: 1 as const,
    op: 'upsert' as const,
    namespace: x.ns,
    itemId: x.id,
    group: `genre-${x.c}`,
    embedding: vec(x.c),
    attributes: { genre: `genre-${x.c}` },
  }));
  for (let i = 0; i < catalog.length; i += 500) await publisher.publish(TOPICS.catalogItems, catalog.slice(i, i + 500));

  const behaviors = [];
  for (let u = 0; u < users; u++) {
    const liked = [u % clusters, (u + 3) % clusters];
    for (let j = 0; j < 50; j++) {
      const c = liked[j % 2];
      const item = c + clusters * Math.floor(rng.next() * (items / clusters));
      behaviors.push({
        eventId: `demo-behavior-${u}-${j}`,
        key: `demo-user-${u}`,
        timestamp: now - (50 - j) * 60_000,
        schemaVersion: 1 as const,
        userId: `demo-user-${u}`,
        itemId: `item-${item}`,
        type: 'click' as const,
      });
    }
  }
  await publisher.publish(TOPICS.userBehaviors, behaviors);
  return { items, ads, users, behaviors: behaviors.length };
}

// ---------------------------------------------------------------------------------------------
// The parts that belong to other apps: each calls that app's HTTP API, and is skipped with a
// logged warning when the app is not running or does not serve the route yet.
// ---------------------------------------------------------------------------------------------

export interface SeedHttp {
  /** Base URL of each app (`http://127.0.0.1:3003`); missing = not running in this suite. */
  urls: Partial<Record<'ranking' | 'ads' | 'adload' | 'experiments', string>>;
  adminToken?: string;
  log: Logger;
}

type Outcome = { status: 'done' | 'skipped' | 'exists'; detail?: string };

async function call(h: SeedHttp, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(h.adminToken ? { authorization: `Bearer ${h.adminToken}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Runs one seeding step; an absent app or route becomes a warning, never a failed start. */
async function step(h: SeedHttp, app: keyof SeedHttp['urls'], what: string, fn: (base: string) => Promise<Outcome>): Promise<Outcome> {
  const base = h.urls[app];
  if (!base) {
    h.log.warn({ app }, `demo seed: ${what} skipped (${app} is not running in this process)`);
    return { status: 'skipped', detail: 'app not running' };
  }
  try {
    const out = await fn(base);
    if (out.status === 'skipped') h.log.warn({ app, detail: out.detail }, `demo seed: ${what} skipped`);
    else h.log.info({ app, outcome: out.status }, `demo seed: ${what}`);
    return out;
  } catch (e) {
    h.log.warn({ app, err: (e as Error).message }, `demo seed: ${what} skipped (${app} did not answer)`);
    return { status: 'skipped', detail: (e as Error).message };
  }
}

const missingRoute = (r: { status: number; body: any }) => r.status === 404 && (r.body?.code === 'route_not_found' || typeof r.body !== 'object');

/** Registers the shipped demo model (model.onnx + feature-spec.json) with ranking and promotes it live. */
export async function seedDemoModel(h: SeedHttp, modelDir = demoModelDir(), modelName = 'ctr'): Promise<Outcome> {
  return step(h, 'ranking', 'ranking model registered and live', async (base) => {
    if (!modelDir) return { status: 'skipped', detail: 'no apps/suite/demo-model directory' };
    const version = (JSON.parse(readFileSync(join(modelDir, 'VERSION.json'), 'utf8')) as { version: string }).version;
    const live = await call(h, 'GET', `${base}/v1/models/${modelName}`);
    if (live.status === 200 && live.body?.live === version) return { status: 'exists' };
    const reg = await call(h, 'POST', `${base}/v1/models/${modelName}/versions/${version}`, {
      artifactBase64: readFileSync(join(modelDir, 'model.onnx')).toString('base64'),
      featureSpec: JSON.parse(readFileSync(join(modelDir, 'feature-spec.json'), 'utf8')),
      metrics: JSON.parse(readFileSync(join(modelDir, 'metrics.json'), 'utf8')),
    });
    if (missingRoute(reg)) return { status: 'skipped', detail: 'ranking has no model registry route' };
    if (reg.status !== 201 && reg.status !== 409) return { status: 'skipped', detail: `register: ${reg.status} ${JSON.stringify(reg.body).slice(0, 300)}` };
    const p = await call(h, 'POST', `${base}/v1/models/${modelName}/versions/${version}/promote`, { to: 'live' });
    if (p.status !== 200 && p.status !== 409) return { status: 'skipped', detail: `promote: ${p.status} ${JSON.stringify(p.body).slice(0, 300)}` };
    return { status: 'done', detail: version };
  });
}

/** A few demo campaigns (CPC and CPM, one per genre group) with one creative each, near that genre's items. */
export async function seedDemoCampaigns(h: SeedHttp, creatives: { group: string; embedding: number[] }[]): Promise<Outcome> {
  return step(h, 'ads', 'demo campaigns created', async (base) => {
    let created = 0;
    for (const [i, c] of creatives.entries()) {
      const id = `demo-campaign-${i}`;
      const r = await call(h, 'POST', `${base}/v1/ads/campaigns`, {
        id,
        name: `Demo campaign ${i} (${c.group})`,
        bidType: i % 2 === 0 ? 'cpc' : 'cpm',
        bid: i % 2 === 0 ? 0.5 + 0.1 * i : 2 + 0.5 * i,
        dailyBudget: 500,
        timeZone: 'UTC',
        priorCtr: 0.02,
      });
      if (missingRoute(r)) return { status: 'skipped', detail: 'ads has no campaign route' };
      if (r.status !== 201 && r.status !== 409) return { status: 'skipped', detail: `campaign: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}` };
      const cr = await call(h, 'PUT', `${base}/v1/ads/campaigns/${id}/creatives/demo-ad-${i}`, { title: `Demo ad ${i}`, embedding: c.embedding });
      if (cr.status >= 300) return { status: 'skipped', detail: `creative: ${cr.status} ${JSON.stringify(cr.body).slice(0, 300)}` };
      if (r.status === 201) created++;
    }
    return { status: created > 0 ? 'done' : 'exists' };
  });
}

/** The ad-load app ships a default policy; this checks that one is live (and says so when it is not). */
export async function seedDemoAdloadPolicy(h: SeedHttp): Promise<Outcome> {
  return step(h, 'adload', 'ad-load policy live', async (base) => {
    const r = await call(h, 'GET', `${base}/v1/adload/policies`);
    if (missingRoute(r)) return { status: 'skipped', detail: 'adload has no policies route' };
    const list: any[] = Array.isArray(r.body) ? r.body : (r.body?.policies ?? []);
    const live = list.find((p) => p.status === 'live');
    return live ? { status: 'exists', detail: String(live.id ?? live.policyId) } : { status: 'skipped', detail: 'no live ad-load policy' };
  });
}

/** A running demo experiment: the slate policy, greedy against in-slate Thompson sampling. */
export async function seedDemoExperiment(h: SeedHttp): Promise<Outcome> {
  return step(h, 'experiments', 'demo experiment running', async (base) => {
    const key = 'demo-slate-policy';
    const r = await call(h, 'POST', `${base}/v1/experiments`, {
      key,
      name: 'Demo: slate policy',
      description: 'Greedy slates against in-slate Thompson sampling (seeded by npm start)',
      variants: [
        { key: 'greedy', weight: 1, overrides: { slatePolicy: 'greedy' } },
        { key: 'in-slate-ts', weight: 1, overrides: { slatePolicy: 'in-slate-ts' } },
      ],
      start: true,
    });
    if (missingRoute(r)) return { status: 'skipped', detail: 'experiments has no experiments route' };
    if (r.status !== 201 && r.status !== 200 && r.status !== 409) return { status: 'skipped', detail: `create: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}` };
    if (r.status === 409) {
      const s = await call(h, 'POST', `${base}/v1/experiments/${key}/start`);
      if (s.status >= 300 && s.status !== 409) return { status: 'skipped', detail: `start: ${s.status} ${JSON.stringify(s.body).slice(0, 300)}` };
    }
    return { status: r.status === 409 ? 'exists' : 'done' };
  });
}

/** Creative embeddings for the demo campaigns: one per group, the mean of that group's items. */
export function demoCreatives(catalog: { group?: string; embedding?: number[] }[], n = 6): { group: string; embedding: number[] }[] {
  const sums = new Map<string, { s: number[]; n: number }>();
  for (const c of catalog) {
    if (!c.group || !c.embedding) continue;
    const e = sums.get(c.group) ?? { s: new Array(c.embedding.length).fill(0), n: 0 };
    c.embedding.forEach((x, i) => (e.s[i] += x));
    e.n++;
    sums.set(c.group, e);
  }
  return [...sums]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, n)
    .map(([group, e]) => ({ group, embedding: e.s.map((x) => Math.round((x / e.n) * 1e5) / 1e5) }));
}

/** Catalog entries of the shipped demo model (for demoCreatives), or none. */
export function demoCatalog(modelDir = demoModelDir()): { group?: string; embedding?: number[] }[] {
  if (!modelDir) return [];
  return (jsonl(join(modelDir, 'catalog.jsonl.gz')) as { embedding?: number[]; attributes?: Record<string, unknown> }[]).map((e) => ({ embedding: e.embedding, group: primaryGenre(e.attributes) }));
}

/**
 * Everything `npm start` seeds on the embedded stack: catalog and clicks through the bus, then the
 * live ranking model, demo campaigns, the ad-load policy check and a running experiment through the
 * apps' HTTP APIs (each skipped with a warning when its app is absent).
 */
export async function seedDemoSuite(suite: { apps: { name: string; url: string }[] }, publisher: EventPublisher, config: { EMBEDDING_DIM: number; ADMIN_TOKEN?: string }, log: Logger) {
  const catalog = await seedDemo(publisher, { dim: config.EMBEDDING_DIM });
  log.info({ seeded: catalog }, 'demo catalog and users published (SEED_DEMO=false to skip)');
  const urlOf = (name: string) => suite.apps.find((a) => a.name === name)?.url;
  const h: SeedHttp = {
    urls: { ranking: urlOf('ranking'), ads: urlOf('ads'), adload: urlOf('adload'), experiments: urlOf('experiments') },
    adminToken: config.ADMIN_TOKEN,
    log,
  };
  const modelDir = catalog.source === 'demo-model' ? demoModelDir() : undefined;
  const model = await seedDemoModel(h, modelDir);
  const creatives = demoCreatives(modelDir ? demoCatalog(modelDir) : []);
  const campaigns = creatives.length ? await seedDemoCampaigns(h, creatives) : ({ status: 'skipped', detail: 'no demo model catalog' } as Outcome);
  const adload = await seedDemoAdloadPolicy(h);
  const experiment = await seedDemoExperiment(h);
  return { catalog, model, campaigns, adload, experiment };
}
