/**
 * Shared set-up of the ads end-to-end specs: the retrieval app and the ads app on one
 * infrastructure (the ads app finds retrieval by URL, as in a deployment), and a stub ranking
 * service whose pCTRs the test controls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_APPS } from '../../apps/suite/apps';
import { createInfra, createLogger, type InfraContext, loadConfig, type RunningSuite, startSuite } from '@recsys/platform';
import { getJson } from '../support/suite';

export const ADMIN = 'ads-e2e-admin-token-0123456789';
export const DIM = 8;
export const vec = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 0.37 + j * 1.3) + (i % 5) * 0.5);

export interface RankingStub {
  url: string;
  pctr: Map<string, number>;
  calls: number;
  down: boolean;
  close(): Promise<void>;
}

export async function startRankingStub(): Promise<RankingStub> {
  const stub: RankingStub = { url: '', pctr: new Map(), calls: 0, down: false, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      stub.calls++;
      if (stub.down) {
        res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"code":"no_live_model"}');
        return;
      }
      const r = JSON.parse(body) as { domain: string; candidates: string[] };
      const out = r.domain === 'ads' ? r.candidates.map((itemId) => ({ itemId, pctr: stub.pctr.get(itemId) ?? 0.02 })) : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () => new Promise((r) => server.close(() => r()));
  return stub;
}

export interface AdsEnv {
  infra: InfraContext;
  retrieval: RunningSuite;
  ads: RunningSuite;
  ranking: RankingStub;
  url: string;
  retrievalUrl: string;
  close(): Promise<void>;
}

/**
 * `env`: real servers (REDIS_URL, DATABASE_URL, KAFKA_BROKERS...) or nothing for the embedded adapters.
 * `together`: retrieval and ads in one suite (one LocalDirectory: the fill calls retrieval in process;
 * ADS_RETRIEVAL_URL then points at a closed port, so an HTTP call would fail and show as degraded).
 */
export async function startAdsEnv(env: Record<string, string> = {}, adsEnv: Record<string, string> = {}, together = false): Promise<AdsEnv> {
  const base = {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'ads-e2e-')),
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    ADMIN_TOKEN: ADMIN,
    RETRIEVAL_METRIC: 'l2',
    NAMESPACE_DIMS: `items:${DIM},ads:${DIM}`,
    ...env,
  };
  const log = createLogger('warn');
  const infra = await createInfra(loadConfig({ ...base, APPS: 'retrieval,ads' }), log);
  const ranking = await startRankingStub();
  const start = async (apps: string, keys: Record<string, string>) => {
    const saved = Object.fromEntries(Object.keys(keys).map((k) => [k, process.env[k]]));
    Object.assign(process.env, keys);
    try {
      return await startSuite(loadConfig({ ...base, APPS: apps, ADS_PORT: '0', RETRIEVAL_PORT: '0' }), ALL_APPS, log, infra);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const keys = (retrievalUrl: string) => ({ ADS_RETRIEVAL_URL: retrievalUrl, ADS_RANKING_URL: ranking.url, ADS_UPSTREAM_TIMEOUT_MS: '2000', ADS_PACING_INTERVAL_MS: '200', ...adsEnv });
  let retrieval: RunningSuite;
  let ads: RunningSuite;
  if (together) {
    ads = retrieval = await start('retrieval,ads', keys('http://127.0.0.1:9'));
  } else {
    retrieval = await start('retrieval', {});
    ads = await start('ads', keys(retrieval.apps[0].url));
  }
  const appUrl = (name: string) => ads.apps.concat(retrieval.apps).find((a) => a.name === name)!.url;
  return {
    infra,
    retrieval,
    ads,
    ranking,
    url: appUrl('ads'),
    retrievalUrl: appUrl('retrieval'),
    async close() {
      await ads.close();
      if (retrieval !== ads) await retrieval.close();
      await ranking.close();
      await infra.close();
    },
  };
}

export const admin = (url: string, method: string, body?: unknown) =>
  getJson(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
