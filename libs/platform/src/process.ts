import 'reflect-metadata';
import type { Logger } from 'pino';
import type { AppDefinition } from './bootstrap';
import { ConfigError, loadProcessConfig, SuiteConfig } from './config';
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
 * infrastructure from env, one line per app on stdout, graceful shutdown on SIGTERM/SIGINT/SIGHUP
 * (stop taking requests, drain consumers and commit offsets, then exit 0; exit 1 when that takes
 * longer than SHUTDOWN_TIMEOUT_MS), also when the signal comes while the apps are still starting.
 */
export async function runProcess(definitions: AppDefinition[], opts: ProcessOptions = {}): Promise<void> {
  const env = { ...process.env };
  const only = process.argv.indexOf('--only');
  if (opts.apps) env.APPS = opts.apps.join(',');
  else if (only >= 0) env.APPS = process.argv[only + 1] ?? process.env.APP ?? '';
  let config: SuiteConfig;
  try {
    config = loadProcessConfig(env, definitions);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL, { service: 'recsys-suite' });

  // Stop signals are handled from here on, also while the apps start or the demo seeds: a signal
  // during startup lets startup finish (so every listener that opened is closed again), then shuts
  // down. Whatever happens, the process is gone SHUTDOWN_TIMEOUT_MS after the first signal.
  let suite: RunningSuite | null = null;
  let stopping: string | null = null;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, `already shutting down (${stopping})`);
      return;
    }
    stopping = signal;
    setTimeout(() => {
      log.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    if (!suite) {
      log.info({ signal }, 'stop requested while starting: shutting down once the apps are up');
      return; // shutDown() runs when startSuite returns
    }
    await shutDown(signal);
  };
  const shutDown = async (signal: string) => {
    log.info({ signal }, 'shutting down: stop taking requests, drain consumers, commit offsets');
    try {
      await suite!.close();
    } catch (e) {
      log.error({ err: e }, 'error while shutting down');
      process.exit(1);
    }
    log.info('stopped');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  suite = await startSuite(config, definitions, log);
  if (stopping) return shutDown(stopping);
  log.info({ adapters: suite.infra.kinds }, 'suite started');
  for (const app of suite.apps) process.stdout.write(`${app.name} ${app.url}\n`);
  // After the app lines: scripts and tests read those first lines of stdout.
  const openAdmin = adminAuthWarning(config);
  if (openAdmin) log.warn(openAdmin);
  try {
    await opts.afterStart?.(suite, config, log);
  } catch (e) {
    // A stop during the seed closes the apps under it: its errors are expected then.
    if (!stopping) throw e;
    log.info({ err: (e as Error).message }, 'afterStart interrupted by the shutdown');
  }
}

export function runProcessOrExit(definitions: AppDefinition[], opts: ProcessOptions = {}): void {
  runProcess(definitions, opts).catch((e) => {
    process.stderr.write(`fatal: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
