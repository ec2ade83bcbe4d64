import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { ModelsController } from './models.controller';
import { RankingController } from './ranking.controller';
import { RankingService } from './ranking.service';

@Module({})
class RankingModule implements OnApplicationBootstrap {
  constructor(@Inject(RankingService) private readonly ranking: RankingService) {}
  async onApplicationBootstrap() {
    await this.ranking.start();
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
