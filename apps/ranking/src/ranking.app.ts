import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RANKING_RANK, type LocalRank } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { rankRequest } from './api/dto';
import { ModelsController } from './models.controller';
import { RankingController } from './ranking.controller';
import { RankingService } from './ranking.service';

@Module({})
class RankingModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(RankingService) private readonly ranking: RankingService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.ranking.start();
    const body = new ZodBody(rankRequest);
    const rank: LocalRank = async (raw) => {
      const r = await this.ranking.rank(body.transform(raw));
      return { items: r.items, model: r.model, shadowVersion: r.shadowVersion };
    };
    this.ctx.local.provide(RANKING_RANK, rank);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(RANKING_RANK);
  }
}

/** Multi-domain CTR ranking with routed experts on ONNX Runtime; model registry, hot swap, shadow scoring. */
export const rankingApp: AppDefinition = {
  name: 'ranking',
  title: 'Ranking service',
  description:
    'pCTR for (user, domain, candidates) on ONNX Runtime with features from the SDIM tables and the catalog; ' +
    'a model registry in Postgres with staged/shadow/live/retired versions, hot swap on every replica, shadow scoring.',
  dependencies: ['bus', 'state', 'sql'],
  module: (): DynamicModule => ({
    module: RankingModule,
    controllers: [RankingController, ModelsController],
    providers: [{ provide: RankingService, useFactory: (c: AppContext) => new RankingService(c), inject: [APP_CONTEXT] }],
  }),
};
