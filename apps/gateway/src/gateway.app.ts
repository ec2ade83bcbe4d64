import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, AdminGuard, type AppContext, type AppDefinition, type LocalDirectory } from '@recsys/platform';
import { ApiKeysController } from './auth/api-keys.controller';
import { ApiKeyGuard, GATEWAY_AUTH, KeyAdminGuard, type GatewayAuth } from './auth/api-key.guard';
import { ApiKeyService } from './auth/api-keys';
import { RateLimiter } from './auth/rate-limit';
import { DemoController } from './demo/demo.controller';
import { EventCollector } from './events/collector';
import { EventsController } from './events/events.controller';
import { CatalogView, startCatalogView } from './feed/catalog-view';
import { FeedController } from './feed/feed.controller';
import { FeedMetrics } from './feed/feed.metrics';
import { FeedService } from './feed/feed.service';
import { PopularItems } from './feed/popular';
import { TrackingTokens } from './feed/tracking-token';
import { appUrlCapability, gatewayConfigSchema, loadGatewayConfig, type GatewayConfig, type StageApp } from './gateway.config';
import { SuiteStageClients, type StageClients } from './stages/stage-clients';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const STAGE_CLIENTS = Symbol('STAGE_CLIENTS');

@Module({})
class GatewayModule implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
    @Inject(CatalogView) private readonly catalog: CatalogView,
    @Inject(STAGE_CLIENTS) private readonly stages: StageClients,
    @Inject(FeedService) private readonly feed: FeedService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap() {
    await startCatalogView(this.ctx, this.catalog);
    this.ctx.shutdownHooks.push(async () => {
      await this.feed.drain();
      await this.stages.close();
    });
    if (this.config.apiKeys === 'off') {
      this.ctx.log.warn('GATEWAY_API_KEYS=off: /v1/feed and /v1/events accept requests without an API key (set ADMIN_TOKEN or GATEWAY_API_KEYS=required)');
    }
    this.ctx.log.info(
      { stages: this.config.urls, inProcess: [...this.config.inProcess], deadlines: this.config.deadlines },
      'gateway: a stage whose app runs in this process is called in process (LocalDirectory), the others over HTTP keep-alive pools; chosen at every call',
    );
  }
}

export interface GatewayOverrides {
  /** Replaces the HTTP stage clients (specs). */
  stages?: StageClients;
  env?: Record<string, string | undefined>;
}

/** Where a stage's app listens: GATEWAY_<APP>_URL when set, else the URL the suite announced for an app of this process (its bound port, also when it was 0), else HOST:<APP>_PORT. */
export function stageUrlResolver(config: GatewayConfig, local: LocalDirectory): (app: StageApp) => string {
  return (app) => (config.explicitUrls.has(app) ? config.urls[app] : (local.lookup<string>(appUrlCapability(app)) ?? config.urls[app]));
}

/** The gateway module; `overrides` let specs swap the stage clients or the GATEWAY_* environment. */
export function gatewayModule(ctx: AppContext, overrides: GatewayOverrides = {}): DynamicModule {
  const config = loadGatewayConfig(ctx.config, overrides.env ?? process.env);
  const metrics = new FeedMetrics(ctx.metrics);
  const stages =
    overrides.stages ??
    new SuiteStageClients(config, {
      local: ctx.local,
      inProcess: config.inProcess,
      resolveUrl: stageUrlResolver(config, ctx.local),
      onBreakerChange: (s, st) => metrics.breakerChanged(s, st),
    });
  const catalog = new CatalogView();
  const auth: GatewayAuth = {
    keys: new ApiKeyService(ctx.infra.sql, config.keyCacheMs),
    limiter: new RateLimiter(ctx.infra.state),
    mode: config.apiKeys,
    defaults: config.rateLimit,
  };
  const feed = new FeedService(ctx, config, stages, catalog, new PopularItems(), new TrackingTokens(config.trackingSecret), metrics);
  return {
    module: GatewayModule,
    controllers: [FeedController, EventsController, ApiKeysController, DemoController],
    providers: [
      { provide: GATEWAY_CONFIG, useValue: config },
      { provide: STAGE_CLIENTS, useValue: stages },
      { provide: CatalogView, useValue: catalog },
      { provide: FeedService, useValue: feed },
      { provide: EventCollector, useValue: new EventCollector(ctx) },
      { provide: GATEWAY_AUTH, useValue: auth },
      { provide: 'GATEWAY_DEFAULT_DOMAIN', useValue: config.defaultDomain },
      AdminGuard,
      ApiKeyGuard,
      KeyAdminGuard,
    ],
  };
}

/** Feed orchestration with deadlines and fallbacks; the HTTP event collector with API keys; the demo page. */
export const gatewayApp: AppDefinition = {
  name: 'gateway',
  title: 'Gateway service',
  description:
    'GET /v1/feed (assignment -> retrieval -> ranking -> slates, ad-load and ads, with per-stage deadlines, fallbacks and circuit breakers), ' +
    'POST /v1/events (the event collector, API keys with scopes and rate limits), the AsyncAPI document at /docs/events, and the demo page at /.',
  dependencies: ['bus', 'state', 'sql'],
  config: gatewayConfigSchema,
  module: (ctx: AppContext): DynamicModule => gatewayModule(ctx),
};
