import 'reflect-metadata';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Server } from 'node:http';
import type { ZodObject } from 'zod';
import { APP_CONTEXT, AppContext, Dependency } from './app-context';
import { DEPENDENCIES, HealthController, MetricsController } from './platform.controllers';
import { httpMetricsMiddleware } from './metrics';
import { PinoNestLogger } from './logger';
import { ProblemFilter } from './problem';
import { ADMIN_AUTH_SCHEME } from './admin-auth';
import { apiRouteSpecs } from './api-route';
import { installClientErrorHandler, methodNotAllowedMiddleware, unsupportedMediaTypeMiddleware } from './http-edges';
import { completeDocument, type OpenApiDocument } from './openapi';

/**
 * Everything an app gets besides its module: metrics, HTTP edges, the JSON body parser, problem+json
 * errors and the OpenAPI document. Shared by startApp and the @nestjs/testing harness
 * (test/support/nest-app.ts), so specs exercise the same pipeline users get. The Nest app must be
 * created with `bodyParser: false`.
 */
export function configureApp(nest: NestExpressApplication, def: AppDefinition, ctx: AppContext): void {
  nest.use(httpMetricsMiddleware(ctx.metrics));
  // HTTP edges before the body is read: 405 + Allow for a wrong method on a known path, 415 for a
  // body that is not JSON (see http-edges.ts); unknown paths fall through to the 404 problem.
  const expressApp = () => nest.getHttpAdapter().getInstance();
  nest.use(methodNotAllowedMiddleware(expressApp));
  nest.use(unsupportedMediaTypeMiddleware(expressApp));
  nest.useBodyParser('json', { limit: BODY_LIMIT });
  nest.useGlobalFilters(new ProblemFilter(ctx.log));
  const doc = completeDocument(
    SwaggerModule.createDocument(
      nest,
      new DocumentBuilder().setTitle(def.title).setDescription(def.description).setVersion('1').setOpenAPIVersion('3.1.0').addBearerAuth(undefined, ADMIN_AUTH_SCHEME).build(),
    ) as unknown as OpenApiDocument,
    apiRouteSpecs(),
    { adminAuth: !!ctx.config.ADMIN_TOKEN },
  );
  SwaggerModule.setup('docs', nest, doc as never, { jsonDocumentUrl: 'docs-json' });
}

/** One service of the suite: a Nest module plus the infrastructure it needs to be healthy. */
export interface AppDefinition {
  name: AppContext['name'];
  title: string;
  description: string;
  dependencies: Dependency[];
  module(ctx: AppContext): DynamicModule;
  /** The app's own settings (env keys and their zod schema), validated at boot with the suite's. */
  config?: ZodObject;
}

export interface RunningApp {
  name: string;
  url: string;
  nest: NestExpressApplication;
  /** Stops taking requests, drains consumers (committing offsets), runs shutdown hooks. */
  close(): Promise<void>;
}

/** Largest JSON request body (413 payload_too_large above it). */
export const BODY_LIMIT = '10mb';

/** The root module of one app: its own module plus the platform's health and metrics controllers and context. */
export function platformModule(def: AppDefinition, ctx: AppContext): DynamicModule {
  @Global()
  @Module({})
  class PlatformModule {}
  return {
    module: PlatformModule,
    imports: [def.module(ctx)],
    controllers: [HealthController, MetricsController],
    providers: [
      { provide: APP_CONTEXT, useValue: ctx },
      { provide: DEPENDENCIES, useValue: def.dependencies },
    ],
    exports: [APP_CONTEXT],
  };
}

export async function startApp(def: AppDefinition, ctx: AppContext, port: number, host: string): Promise<RunningApp> {
  const nest = await NestFactory.create<NestExpressApplication>(platformModule(def, ctx), {
    logger: new PinoNestLogger(ctx.log),
    bodyParser: false,
    abortOnError: false,
  });
  configureApp(nest, def, ctx);
  const server = nest.getHttpServer() as Server;
  installClientErrorHandler(server);
  await nest.listen(port, host);
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    name: def.name,
    url: `http://${host}:${actualPort}`,
    nest,
    close() {
      closing ??= (async () => {
        // Stop accepting connections first; in-flight requests finish.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections?.();
        for (const s of ctx.subscriptions.splice(0)) await s.stop();
        for (const hook of ctx.shutdownHooks.splice(0)) await hook();
        await nest.close();
      })();
      return closing;
    },
  };
}
