import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RETRIEVAL_CANDIDATES, type LocalCandidates } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { candidatesRequest } from './api/dto';
import { RetrievalController, vectorProblem } from './retrieval.controller';
import { RetrievalService } from './retrieval.service';

@Module({})
class RetrievalModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(RetrievalService) private readonly retrieval: RetrievalService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.retrieval.start();
    const body = new ZodBody(candidatesRequest);
    const candidates: LocalCandidates = async (raw) => {
      const req = body.transform(raw);
      vectorProblem(req);
      return this.retrieval.candidates(req);
    };
    this.ctx.local.provide(RETRIEVAL_CANDIDATES, candidates);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(RETRIEVAL_CANDIDATES);
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
