import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { AdsController } from './ads.controller';
import { startAdsConsumers } from './ads.consumers';
import { adsConfigSchema, loadAdsConfig } from './ads.config';
import { AdsService } from './ads.service';
import { HttpCandidateSource, HttpCtrScorer } from './domain/upstream';

@Module({})
class AdsModule implements OnApplicationBootstrap {
  constructor(
    @Inject(AdsService) private readonly ads: AdsService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.ads.start();
    await startAdsConsumers(this.ctx, this.ads);
  }
}

/** Builds the service from the environment: retrieval and ranking over HTTP (see ads.config.ts). */
export function createAdsService(ctx: AppContext, env: Record<string, string | undefined> = process.env): AdsService {
  const config = loadAdsConfig(ctx.config, env);
  return new AdsService(ctx, config, {
    candidates: new HttpCandidateSource(config.retrievalUrl, config.ADS_UPSTREAM_TIMEOUT_MS),
    scorer: new HttpCtrScorer(config.rankingUrl, config.ADS_UPSTREAM_TIMEOUT_MS, config.ADS_RANKING_DOMAIN),
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
