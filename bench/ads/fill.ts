/**
 * POST /v1/ads/fill latency in one process with the real retrieval and ranking apps (embedded
 * adapters): `campaigns` campaigns with one creative each in the retrieval namespace `ads`, the
 * ranking app serving a TypeScript-built synthetic CTR model whose domains include `ads`. The three
 * apps run in one suite (one LocalDirectory), so the fill calls retrieval.candidates and
 * ranking.rank in process. Two paths are timed on the same requests, alternating:
 * - `inProcess`: the `ads.fill` capability (what the gateway calls in process);
 * - `http`: POST /v1/ads/fill over loopback HTTP (keep-alive), the same fill behind the route.
 * The in-process calls of retrieval and ranking are wrapped to time them, so the fill's own share
 * (eligibility, auction, reservations, tokens) is reported beside them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { ADS_FILL, encodeFloat32, RANKING_RANK, RETRIEVAL_CANDIDATES, stateKeys, type LocalAdsFill, type LocalCall } from '@recsys/contracts';
import { createInfra, createLogger, loadConfig, startSuite } from '@recsys/platform';
import { exampleFeatureSpec } from '@recsys/ranking';
import { seededRandom } from '@recsys/ads';
import { ALL_APPS } from '../../apps/suite/apps';
import { syntheticCtrModel } from '../../apps/ranking/src/testing/synthetic-model';
import { summarize, type Summary } from '../common/stats';

export interface FillBenchResult {
  campaigns: number;
  candidates: number;
  slots: number;
  requests: number;
  concurrency: number;
  /** The in-process fill (ads.fill), retrieval and ranking in process. */
  latencyMs: Summary;
  /** POST /v1/ads/fill over loopback HTTP, retrieval and ranking in process. */
  httpLatencyMs: Summary;
  /** Time inside the in-process retrieval and ranking calls, per in-process fill. */
  stagesMs: { retrieval: Summary; ranking: Summary; rest: Summary };
  adsPerFill: number;
  degraded: Record<string, number>;
  model: string;
  /** RANKING_MODEL_ISOLATION: the ONNX session in a worker thread (the default) or on the request loop. */
  rankingIsolation: 'worker' | 'inline';
}

export async function benchFill(o: {
  campaigns: number;
  requests: number;
  candidates: number;
  slots: number;
  concurrency: number;
  seed: number;
  rankingIsolation?: 'worker' | 'inline';
}): Promise<FillBenchResult> {
  const rankingIsolation = o.rankingIsolation ?? 'worker';
  const spec = exampleFeatureSpec({ domains: ['family', 'thrill', 'drama', 'ads'] });
  const { bytes } = syntheticCtrModel({ spec });
  const d = spec.embedding.dim;
  const base = {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-ads-')),
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    EMBEDDING_DIM: String(d),
    NAMESPACE_DIMS: `items:${d},ads:${d}`,
    RANKING_MODEL_NAME: spec.model.name,
    SDIM_SEED: String(spec.sdim.seed),
    SDIM_M: String(spec.sdim.m),
    SDIM_TAU: String(spec.sdim.tau),
    RANKING_MODEL_ISOLATION: rankingIsolation,
  };
  const log = createLogger('warn');
  const infra = await createInfra(loadConfig({ ...base, APPS: 'retrieval,ranking,ads' }), log);
  Object.assign(process.env, { ADS_CANDIDATES: String(o.candidates), ADS_UPSTREAM_TIMEOUT_MS: '1000' });
  const suite = await startSuite(loadConfig({ ...base, APPS: 'retrieval,ranking,ads', RETRIEVAL_PORT: '0', RANKING_PORT: '0', ADS_PORT: '0' }), ALL_APPS, log, infra);
  const urlOf = (name: string) => suite.apps.find((a) => a.name === name)!.url;
  const url = urlOf('ads');
  const dispatcher = new Agent({ connections: 8, keepAliveTimeout: 30_000 });
  const call = async (u: string, method: string, body?: unknown) => {
    const res = await undiciFetch(u, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body), dispatcher });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${u}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  try {
    await call(`${urlOf('ranking')}/v1/models/${spec.model.name}/versions/bench`, 'POST', { artifactBase64: bytes.toString('base64'), featureSpec: spec });
    await call(`${urlOf('ranking')}/v1/models/${spec.model.name}/versions/bench/promote`, 'POST', { to: 'live' });
    const rand = seededRandom(o.seed);
    const vec = () => Array.from({ length: d }, () => rand() * 2 - 1);
    for (let i = 0; i < o.campaigns; i++) {
      const cpc = i % 2 === 0;
      await call(`${url}/v1/ads/campaigns`, 'POST', {
        id: `bench-${i}`,
        name: `bench ${i}`,
        bidType: cpc ? 'cpc' : 'cpm',
        bid: Math.round((cpc ? 0.2 + rand() : 2 + 10 * rand()) * 1e4) / 1e4,
        dailyBudget: 1e6,
        timeZone: 'UTC',
      });
      await call(`${url}/v1/ads/campaigns/bench-${i}/creatives/bench-ad-${i}`, 'PUT', { embedding: vec() });
    }
    const users = Array.from({ length: 200 }, (_, i) => `bench-user-${i}`);
    for (const u of users) await infra.state.set(stateKeys.userEmbedding(u), encodeFloat32(vec()));
    // wait until retrieval has indexed every creative and ranking answers
    for (let t = 0; ; t++) {
      const idx = await call(`${urlOf('retrieval')}/v1/indexes`, 'GET');
      const ns = idx.indexes.find((x: { namespace: string }) => x.namespace === 'ads');
      if (ns?.size === o.campaigns) break;
      if (t > 600) throw new Error('retrieval did not index the creatives');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let t = 0; ; t++) {
      const res = await fetch(`${urlOf('ranking')}/v1/rank`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'x', domain: 'ads', candidates: ['bench-ad-0'] }),
      });
      await res.text();
      if (res.status === 200) break;
      if (t > 600) throw new Error('ranking has no live model');
      await new Promise((r) => setTimeout(r, 100));
    }
    // time the in-process retrieval and ranking calls (the same use cases, wrapped)
    const local = suite.contexts.get('ads')!.local;
    let stage = { retrieval: 0, ranking: 0 };
    for (const [cap, name] of [
      [RETRIEVAL_CANDIDATES, 'retrieval'],
      [RANKING_RANK, 'ranking'],
    ] as const) {
      const inner = local.lookup<LocalCall<unknown>>(cap)!;
      local.withdraw(cap);
      local.provide<LocalCall<unknown>>(cap, async (body) => {
        const t0 = performance.now();
        try {
          return await inner(body);
        } finally {
          stage[name] += performance.now() - t0;
        }
      });
    }
    const localFill = local.lookup<LocalAdsFill>(ADS_FILL)!;
    const positions = Array.from({ length: o.slots }, (_, i) => 2 + 4 * i);
    const body = (i: number) => ({ userId: users[i % users.length], surface: 'feed', positions });
    const httpFill = (i: number) => call(`${url}/v1/ads/fill`, 'POST', body(i));
    for (let i = 0; i < 200; i++) {
      await httpFill(i); // warm-up
      await localFill(body(i));
    }
    const lat: number[] = [];
    const httpLat: number[] = [];
    const stages = { retrieval: [] as number[], ranking: [] as number[], rest: [] as number[] };
    let served = 0;
    const degraded: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.requests) {
          const i = next++;
          // alternate the two paths so load changes on the shared machine hit both alike
          stage = { retrieval: 0, ranking: 0 };
          let t0 = performance.now();
          const r = await localFill(body(i));
          const ms = performance.now() - t0;
          lat.push(ms);
          if (o.concurrency === 1) {
            stages.retrieval.push(stage.retrieval);
            stages.ranking.push(stage.ranking);
            stages.rest.push(ms - stage.retrieval - stage.ranking);
          }
          served += r.ads.length;
          for (const x of r.degraded) degraded[x] = (degraded[x] ?? 0) + 1;
          t0 = performance.now();
          await httpFill(i);
          httpLat.push(performance.now() - t0);
        }
      }),
    );
    return {
      campaigns: o.campaigns,
      candidates: o.candidates,
      slots: o.slots,
      requests: o.requests,
      concurrency: o.concurrency,
      latencyMs: summarize(lat),
      httpLatencyMs: summarize(httpLat),
      stagesMs: { retrieval: summarize(stages.retrieval), ranking: summarize(stages.ranking), rest: summarize(stages.rest) },
      adsPerFill: served / o.requests,
      degraded,
      model: 'synthetic CTR model (apps/ranking/src/testing/synthetic-model.ts), domains family/thrill/drama/ads',
      rankingIsolation,
    };
  } finally {
    await suite.close();
    await dispatcher.close();
    await infra.close();
  }
}
