import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventPublisher } from '@recsys/messaging';
import { createLogger, loadConfig, startSuite, type AppDefinition, type RunningSuite } from '@recsys/platform';
import { ALL_APPS } from '../../apps/suite/apps';
import { seedDemoSuite } from '../../apps/suite/demo-seed';
import { gatewayModule } from '../../apps/gateway/src/gateway.app';
import { eventually, getJson } from '../support/suite';

/**
 * The whole suite in this process on random ports, seeded as `npm start` seeds it: the stage apps
 * first, then the gateway on the same infrastructure, told where they listen (GATEWAY_<APP>_URL).
 * Deadlines are widened: specs run on a loaded 2-core machine (the speed targets are bench:feed's).
 * Resolves once a demo user's feed comes from retrieval, ranked by the demo model.
 */
export async function startFeedSuite(env: Record<string, string> = {}, gatewayEnv: Record<string, string> = {}) {
  const ports = Object.fromEntries(ALL_APPS.map((a) => [`${a.name.toUpperCase()}_PORT`, '0']));
  const base = { DATA_DIR: mkdtempSync(join(tmpdir(), 'recsys-feed-')), LOG_LEVEL: 'error', SEED_DEMO: 'false', BEHAVIOR_TABLE_TYPES: 'click', ...ports, ...env };
  const config = loadConfig(base);
  const log = createLogger(config.LOG_LEVEL, { test: true });
  const stages = await startSuite(
    loadConfig({
      ...base,
      APPS: ALL_APPS.filter((a) => a.name !== 'gateway')
        .map((a) => a.name)
        .join(','),
    }),
    ALL_APPS,
    log,
  );
  const stageUrl = (app: string) => stages.apps.find((a) => a.name === app)!.url;
  const gwEnv = {
    GATEWAY_DEADLINES: 'experiments=3000,history=3000,retrieval=3000,ranking=3000,slates=3000,adload=3000,ads=3000',
    GATEWAY_TOTAL_DEADLINE_MS: '20000',
    ...Object.fromEntries(['experiments', 'behavior', 'retrieval', 'ranking', 'slates', 'adload', 'ads'].map((a) => [`GATEWAY_${a.toUpperCase()}_URL`, stageUrl(a)])),
    ...gatewayEnv,
  };
  const gatewayDef: AppDefinition = { ...ALL_APPS.find((d) => d.name === 'gateway')!, module: (ctx) => gatewayModule(ctx, { env: gwEnv }) };
  const gateway = await startSuite(loadConfig({ ...base, APPS: 'gateway' }), [gatewayDef], log, stages.infra);
  const suite: RunningSuite = {
    infra: stages.infra,
    apps: [...stages.apps, ...gateway.apps],
    contexts: new Map([...stages.contexts, ...gateway.contexts]),
    close: async () => {
      await gateway.close();
      await stages.close();
    },
  };
  try {
    const seeded = await seedDemoSuite(suite, new EventPublisher(suite.infra.bus), config, log);
    const gw = gateway.apps[0]!.url;
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
