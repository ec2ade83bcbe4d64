import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ADS_FILL, type LocalAdsFill } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { AdsController } from './ads.controller';
import { startAdsConsumers } from './ads.consumers';
import { adsConfigSchema, loadAdsConfig } from './ads.config';
import { AdsService } from './ads.service';
import { fillRequest } from './api/dto';
import { RankingCtrScorer, RetrievalCandidateSource } from './domain/upstream';

@Module({})
class AdsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(AdsService) private readonly ads: AdsService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.ads.start();
    await startAdsConsumers(this.ctx, this.ads);
    // POST /v1/ads/fill in process (the gateway): the route's validation and problem codes, no socket.
    const body = new ZodBody(fillRequest);
    const fill: LocalAdsFill = async (raw) => this.ads.fill(body.transform(raw));
    this.ctx.local.provide(ADS_FILL, fill);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(ADS_FILL);
  }
}

/**
 * Builds the service from the environment: retrieval and ranking in process when this process runs
 * them (LocalDirectory), over HTTP otherwise (see ads.config.ts).
 */
export function createAdsService(ctx: AppContext, env: Record<string, string | undefined> = process.env): AdsService {
  const config = loadAdsConfig(ctx.config, env);
  return new AdsService(ctx, config, {
    candidates: new RetrievalCandidateSource(config.retrievalUrl, config.ADS_UPSTREAM_TIMEOUT_MS, 'ads', ctx.local),
    scorer: new RankingCtrScorer(config.rankingUrl, config.ADS_UPSTREAM_TIMEOUT_MS, config.ADS_RANKING_DOMAIN, ctx.local),
  });
}

/** Campaigns and creatives, eligibility, the multi-slot auction on eCPM, paced budgets and delivery. */
export const adsApp: AppDefinition = {
  name: 'ads',
  title: 'Ads service',
  description: 'Campaigns and creatives, eligibility, the multi-slot auction on eCPM, paced budgets with atomic spend, and delivery.',
  dependencies: ['bus', 'state', 'sql'],
  config: adsConfigSchema,
  module: (): DynamicModule => ({
    module: AdsModule,
    controllers: [AdsController],
    providers: [{ provide: AdsService, useFactory: (c: AppContext) => createAdsService(c), inject: [APP_CONTEXT] }],
  }),
};
