import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import request from 'supertest';
import type { Logger } from 'pino';
import {
  APP_NAMES,
  type AppContext,
  type AppDefinition,
  configureApp,
  createAppContext,
  LocalDirectory,
  createInfra,
  createLogger,
  type InfraContext,
  loadConfig,
  platformModule,
  type SuiteConfig,
} from '@recsys/platform';

export interface TestApp {
  app: NestExpressApplication;
  moduleRef: TestingModule;
  ctx: AppContext;
  infra: InfraContext;
  config: SuiteConfig;
  /** supertest against the app's HTTP server (no port is opened). */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Configuration added to the defaults (embedded adapters, a temporary DATA_DIR, no demo seed). */
  env?: Record<string, string>;
  /** Infrastructure shared with the spec (e.g. to publish to the same in-process log); created and closed here otherwise. */
  infra?: InfraContext;
  /** Nest DI overrides, e.g. `(b) => b.overrideProvider(TOKEN).useValue(stub)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  log?: Logger;
  /** Share in-process use cases with other test apps (see LocalDirectory). */
  local?: LocalDirectory;
}

/**
 * One app of the suite under @nestjs/testing, as NestJS's docs show: `Test.createTestingModule` over
 * the app's root module (its own module plus the platform's health and metrics), DI overrides
 * applied, and the same HTTP pipeline as production (configureApp: body limits, HTTP edges,
 * problem+json, OpenAPI). Requests go through supertest.
 */
export async function createTestApp(def: AppDefinition, options: TestAppOptions = {}): Promise<TestApp> {
  const ports = Object.fromEntries(APP_NAMES.map((a) => [`${a.toUpperCase()}_PORT`, '0']));
  // The embedded database in memory: a test app's data dies with it (specs of persistence set PGLITE_DIR).
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), `recsys-${def.name}-`)), PGLITE_DIR: 'memory', LOG_LEVEL: 'warn', SEED_DEMO: 'false', APPS: def.name, ...ports, ...options.env });
  const log = options.log ?? createLogger(config.LOG_LEVEL, { test: true });
  const infra = options.infra ?? (await createInfra(config, log));
  const ctx = createAppContext(def.name, config, infra, log, options.local);
  let builder = Test.createTestingModule({ imports: [platformModule(def, ctx)] });
  if (options.override) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
  configureApp(app, def, ctx);
  await app.init();
  let closing: Promise<void> | undefined;
  return {
    app,
    moduleRef,
    ctx,
    infra,
    config,
    http: () => request(app.getHttpServer()),
    close() {
      closing ??= (async () => {
        for (const s of ctx.subscriptions.splice(0)) await s.stop();
        for (const hook of ctx.shutdownHooks.splice(0)) await hook();
        await app.close();
        if (!options.infra) await infra.close();
      })();
      return closing;
    },
  };
}
