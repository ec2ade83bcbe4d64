import type { Logger } from 'pino';
import { EventPublisher, StateStoreIdempotencyLedger } from '@recsys/messaging';
import type { AppContext, InfraContext } from './app-context';
import type { AppDefinition, RunningApp } from './bootstrap';
import { startApp } from './bootstrap';
import { AppName, portOf, SuiteConfig } from './config';
import { createInfra } from './infra-factory';
import { LocalDirectory } from './local-directory';
import { createRegistry } from './metrics';

export function createAppContext(name: AppName, config: SuiteConfig, infra: InfraContext, rootLog: Logger, local = new LocalDirectory()): AppContext {
  return {
    name,
    config,
    infra,
    log: rootLog.child({ app: name }),
    metrics: createRegistry(name),
    publisher: new EventPublisher(infra.bus),
    ledger: new StateStoreIdempotencyLedger(infra.state),
    healthChecks: new Map(),
    subscriptions: [],
    shutdownHooks: [],
    local,
  };
}

export interface RunningSuite {
  infra: InfraContext;
  apps: RunningApp[];
  contexts: Map<AppName, AppContext>;
  close(): Promise<void>;
}

/**
 * Starts the selected apps in this process on one shared infrastructure. With embedded adapters
 * the apps talk through the same in-process log, so the suite works as a whole with no servers.
 */
export async function startSuite(config: SuiteConfig, definitions: AppDefinition[], log: Logger, infra?: InfraContext): Promise<RunningSuite> {
  const ownInfra = !infra;
  const shared = infra ?? (await createInfra(config, log));
  const apps: RunningApp[] = [];
  const contexts = new Map<AppName, AppContext>();
  const local = new LocalDirectory();
  try {
    for (const def of definitions.filter((d) => config.APPS.includes(d.name))) {
      const ctx = createAppContext(def.name, config, shared, log, local);
      contexts.set(def.name, ctx);
      apps.push(await startApp(def, ctx, portOf(config, def.name), config.HOST));
    }
  } catch (e) {
    await Promise.allSettled(apps.map((a) => a.close()));
    if (ownInfra) await shared.close();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    infra: shared,
    apps,
    contexts,
    close() {
      closing ??= (async () => {
        await Promise.allSettled(apps.map((a) => a.close()));
        if (ownInfra) await shared.close();
      })();
      return closing;
    },
  };
}
