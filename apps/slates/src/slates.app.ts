import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SLATES_SLATE, type LocalSlate } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { slateRequest } from './api/dto';
import { SlatesController } from './slates.controller';
import { slatesConfigSchema } from './slates.config';
import { SlatesService } from './slates.service';

/** Slate building with in-slate Thompson sampling over per-item and per-group posteriors. */
@Module({})
class SlatesModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(SlatesService) private readonly slates: SlatesService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.slates.start();
    const body = new ZodBody(slateRequest);
    const slate: LocalSlate = async (raw) => this.slates.build(body.transform(raw));
    this.ctx.local.provide(SLATES_SLATE, slate);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(SLATES_SLATE);
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
