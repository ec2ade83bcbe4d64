import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { z } from 'zod';
import { BEHAVIOR_HISTORY, type LocalHistory } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { historyQuery, userParams } from './api/dto';
import { BehaviorController } from './behavior.controller';
import { BehaviorService } from './behavior.service';

/** The in-process form of `GET /v1/users/{id}/history?limit`: the route's path and query schemas as one body. */
const localHistoryRequest = z.strictObject({ userId: userParams.shape.id, limit: historyQuery.shape.limit });

@Module({})
class BehaviorModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(BehaviorService) private readonly behavior: BehaviorService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.behavior.start();
    const body = new ZodBody(localHistoryRequest);
    const history: LocalHistory = async (raw) => {
      const req = body.transform(raw);
      return this.behavior.history(req.userId, req.limit);
    };
    this.ctx.local.provide(BEHAVIOR_HISTORY, history);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(BEHAVIOR_HISTORY);
  }
}

export const behaviorApp: AppDefinition = {
  name: 'behavior',
  title: 'Behavior service',
  description: 'Per-user behaviour history, SDIM bucket tables (read by ranking) and user embeddings (read by retrieval).',
  dependencies: ['bus', 'state'],
  module: (): DynamicModule => ({
    module: BehaviorModule,
    controllers: [BehaviorController],
    providers: [{ provide: BehaviorService, useFactory: (c: AppContext) => new BehaviorService(c), inject: [APP_CONTEXT] }],
  }),
};
