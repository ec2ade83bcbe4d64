import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { BehaviorController } from './behavior.controller';
import { BehaviorService } from './behavior.service';

@Module({})
class BehaviorModule implements OnApplicationBootstrap {
  constructor(@Inject(BehaviorService) private readonly behavior: BehaviorService) {}
  async onApplicationBootstrap() {
    await this.behavior.start();
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
