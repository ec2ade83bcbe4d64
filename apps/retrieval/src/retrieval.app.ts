import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { RetrievalController } from './retrieval.controller';
import { RetrievalService } from './retrieval.service';

@Module({})
class RetrievalModule implements OnApplicationBootstrap {
  constructor(@Inject(RetrievalService) private readonly retrieval: RetrievalService) {}
  async onApplicationBootstrap() {
    await this.retrieval.start();
  }
}

export const retrievalApp: AppDefinition = {
  name: 'retrieval',
  title: 'Retrieval service',
  description: 'Candidate retrieval: HNSW and SPANN-style ANN indexes per namespace, fed by catalog.items.',
  dependencies: ['bus', 'state', 'jobs'],
  module: (): DynamicModule => ({
    module: RetrievalModule,
    controllers: [RetrievalController],
    providers: [{ provide: RetrievalService, useFactory: (c: AppContext) => new RetrievalService(c), inject: [APP_CONTEXT] }],
  }),
};
