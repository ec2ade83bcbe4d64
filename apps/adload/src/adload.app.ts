import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ADLOAD_DECIDE, type LocalDecide } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { decideRequest } from './api/dto';
import { AdloadController } from './adload.controller';
import { adloadConfigSchema } from './adload.config';
import { AdloadService } from './adload.service';

@Module({})
class AdloadModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(AdloadService) private readonly adload: AdloadService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.adload.start();
    const body = new ZodBody(decideRequest);
    const decide: LocalDecide = async (raw) => this.adload.decideRequest(body.transform(raw));
    this.ctx.local.provide(ADLOAD_DECIDE, decide);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(ADLOAD_DECIDE);
  }
}

/** Ad-load decisions with logged propensities, the decision log, outcome joins, off-policy learning and reports. */
export const adloadApp: AppDefinition = {
  name: 'adload',
  title: 'Adload service',
  description: 'Ad-load decisions with logged propensities (day-partitioned decision log), outcome joins, off-policy evaluation (libs/ope) and safe policy improvement.',
  dependencies: ['bus', 'state', 'sql', 'jobs'],
  config: adloadConfigSchema,
  module: (): DynamicModule => ({
    module: AdloadModule,
    controllers: [AdloadController],
    providers: [{ provide: AdloadService, useFactory: (c: AppContext) => new AdloadService(c), inject: [APP_CONTEXT] }],
  }),
};
