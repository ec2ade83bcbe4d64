import 'reflect-metadata';
import type { Logger } from 'pino';
import type { AppDefinition } from './bootstrap';
import { ConfigError, loadConfig, SuiteConfig } from './config';
import { createLogger } from './logger';
import { adminAuthWarning } from './admin-auth';
import { RunningSuite, startSuite } from './suite';

export interface ProcessOptions {
  /** Apps to run regardless of APPS / --only (an app's own entry file). */
  apps?: string[];
  /** Runs after every app listens (e.g. seeding the demo catalog). */
  afterStart?: (suite: RunningSuite, config: SuiteConfig, log: Logger) => Promise<void>;
}

/**
 * The process around one or more apps: config validated once (every bad key listed, exit 2),
 * infrastructure from env, one line per app on stdout, graceful shutdown on SIGTERM/SIGINT
 * (stop taking requests, drain consumers and commit offsets, then exit 0).
 */
export async function runProcess(definitions: AppDefinition[], opts: ProcessOptions = {}): Promise<void> {
  const env = { ...process.env };
  const only = process.argv.indexOf('--only');
  if (opts.apps) env.APPS = opts.apps.join(',');
  else if (only >= 0) env.APPS = process.argv[only + 1] ?? process.env.APP ?? '';
  let config: SuiteConfig;
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
  const suite = await startSuite(config, definitions, log);
  log.info({ adapters: suite.infra.kinds }, 'suite started');
  for (const app of suite.apps) process.stdout.write(`${app.name} ${app.url}\n`);
  // After the app lines: scripts and tests read those first lines of stdout.
  const openAdmin = adminAuthWarning(config);
  if (openAdmin) log.warn(openAdmin);
  await opts.afterStart?.(suite, config, log);

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

export function runProcessOrExit(definitions: AppDefinition[], opts: ProcessOptions = {}): void {
  runProcess(definitions, opts).catch((e) => {
    process.stderr.write(`fatal: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
