import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventPublisher } from '@recsys/messaging';
import { createLogger, loadConfig, startSuite, type AppDefinition, type RunningSuite } from '@recsys/platform';
import { ALL_APPS } from '../../apps/suite/apps';
import { seedDemoSuite } from '../../apps/suite/demo-seed';
import { gatewayModule } from '../../apps/gateway/src/gateway.app';
import { announceAppUrls } from '../../apps/suite/urls';
import { eventually, getJson } from '../support/suite';

/**
 * The whole suite in this process on random ports (port 0), seeded as `npm start` seeds it, started
 * as apps/suite starts it: one startSuite, the gateway last, then the bound URLs announced (the
 * gateway finds a stage it calls over HTTP at its real port). Stages are called in process unless
 * `gatewayEnv` says otherwise (GATEWAY_IN_PROCESS). Deadlines are widened: specs run on a loaded
 * 2-core machine (the speed targets are bench:feed's). Resolves once a demo user's feed comes from
 * retrieval, ranked by the demo model.
 */
export async function startFeedSuite(env: Record<string, string> = {}, gatewayEnv: Record<string, string> = {}) {
  const ports = Object.fromEntries(ALL_APPS.map((a) => [`${a.name.toUpperCase()}_PORT`, '0']));
  const base = { DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-feed-')), LOG_LEVEL: 'error', SEED_DEMO: 'false', BEHAVIOR_TABLE_TYPES: 'click', ...ports, ...env };
  const config = loadConfig(base);
  const log = createLogger(config.LOG_LEVEL, { test: true });
  const gwEnv = {
    GATEWAY_DEADLINES: 'experiments=3000,history=3000,retrieval=3000,ranking=3000,slates=3000,adload=3000,ads=3000',
    GATEWAY_TOTAL_DEADLINE_MS: '20000',
    ...gatewayEnv,
  };
  const definitions: AppDefinition[] = ALL_APPS.map((d) => (d.name === 'gateway' ? { ...d, module: (ctx) => gatewayModule(ctx, { env: gwEnv }) } : d));
  const suite: RunningSuite = await startSuite(config, definitions, log);
  announceAppUrls(suite);
  try {
    const seeded = await seedDemoSuite(suite, new EventPublisher(suite.infra.bus), config, log);
    const gw = suite.apps.find((a) => a.name === 'gateway')!.url;
    const headers: Record<string, string> = gatewayEnv.GATEWAY_TEST_KEY ? { 'x-api-key': gatewayEnv.GATEWAY_TEST_KEY } : {};
    let last: unknown;
    await eventually(
      async () => {
        const r = await getJson(`${gw}/v1/feed?userId=demo-user-0&limit=5`, { headers });
        last = { status: r.status, degraded: r.body.degraded, reasons: r.body.degradedReasons, source: r.body.source, versions: r.body.versions };
        return r.status === 200 && r.body.source === 'retrieval' && !r.body.degraded.includes('ranking');
      },
      180_000,
      250,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}; last feed: ${JSON.stringify(last)}`);
    });
    return { suite, seeded, gw, url: (app: string) => suite.apps.find((a) => a.name === app)!.url };
  } catch (e) {
    await suite.close();
    throw e;
  }
}
