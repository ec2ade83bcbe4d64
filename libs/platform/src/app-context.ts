import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { EventBus, Subscription } from '@recsys/infra/event-bus/event-bus.port';
import type { JobQueue } from '@recsys/infra/job-queue/job-queue.port';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import type { StateStore } from '@recsys/infra/state-store/state-store.port';
import type { EventPublisher, IdempotencyLedger } from '@recsys/messaging';
import type { AppName, SuiteConfig } from './config';
import type { LocalDirectory } from './local-directory';

export type Dependency = 'bus' | 'state' | 'sql' | 'jobs';

export interface InfraContext {
  bus: EventBus;
  state: StateStore;
  sql: SqlDatabase;
  jobs: JobQueue;
  /** Which adapter backs each port, e.g. {bus: 'kafka', state: 'memory', ...}. */
  kinds: Record<Dependency, string>;
  close(): Promise<void>;
}

export type HealthCheck = () => Promise<void>;

/** What a service module receives: its config, the shared infrastructure and its own observability. */
export interface AppContext {
  name: AppName;
  config: SuiteConfig;
  infra: InfraContext;
  log: Logger;
  metrics: Registry;
  publisher: EventPublisher;
  ledger: IdempotencyLedger;
  /** Extra readiness checks shown in /health (e.g. "index loaded"). */
  healthChecks: Map<string, HealthCheck>;
  /** Consumers registered here are drained (stopped, offsets committed) on shutdown. */
  subscriptions: Subscription[];
  /** Hooks run on shutdown after consumers are drained (e.g. write a final snapshot). */
  shutdownHooks: Array<() => Promise<void>>;
  /** Use cases of the apps in this process, shared by all of them (see LocalDirectory). */
  local: LocalDirectory;
}

export const APP_CONTEXT = Symbol('APP_CONTEXT');
