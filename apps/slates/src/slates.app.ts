import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { SlatesController } from './slates.controller';
import { slatesConfigSchema } from './slates.config';
import { SlatesService } from './slates.service';

/** Slate building with in-slate Thompson sampling over per-item and per-group posteriors. */
@Module({})
class SlatesModule implements OnApplicationBootstrap {
  constructor(@Inject(SlatesService) private readonly slates: SlatesService) {}
  async onApplicationBootstrap() {
    await this.slates.start();
  }
}

export const slatesApp: AppDefinition = {
  name: 'slates',
  title: 'Slates service',
  description: 'Slate building with in-slate Thompson sampling over per-item and per-group posteriors, learned from feed.impressions and feed.feedback.',
  dependencies: ['bus', 'state'],
  config: slatesConfigSchema,
  module: (): DynamicModule => ({
    module: SlatesModule,
    controllers: [SlatesController],
    providers: [{ provide: SlatesService, useFactory: (c: AppContext) => new SlatesService(c), inject: [APP_CONTEXT] }],
  }),
};
