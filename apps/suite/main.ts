import 'reflect-metadata';
import { ConfigError, createLogger, loadConfig, startSuite } from '../../libs/platform/src';
import { EventPublisher } from '../../libs/messaging/src';
import { ALL_APPS } from './apps';
import { seedDemo } from './demo-seed';

/**
 * `node dist/apps/suite/main.js [--only app1,app2]`: runs the selected apps (all by default) in
 * this process. Without KAFKA_BROKERS / DATABASE_URL / REDIS_URL it uses the embedded adapters.
 */
async function main() {
  const env = { ...process.env };
  const only = process.argv.indexOf('--only');
  if (only >= 0) env.APPS = process.argv[only + 1] ?? process.env.APP ?? '';
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL, { service: 'recsys-suite' });
  const suite = await startSuite(config, ALL_APPS, log);
  log.info({ adapters: suite.infra.kinds }, 'suite started');
  for (const app of suite.apps) process.stdout.write(`${app.name} ${app.url}\n`);
  const seed = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && suite.infra.kinds.bus === 'inprocess');
  if (seed) {
    const seeded = await seedDemo(new EventPublisher(suite.infra.bus), { dim: config.EMBEDDING_DIM });
    log.info({ seeded }, 'demo catalog and users published (SEED_DEMO=false to skip)');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: stop taking requests, drain consumers, commit offsets');
    const timer = setTimeout(() => {
      log.error('shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    await suite.close();
    clearTimeout(timer);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`fatal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
