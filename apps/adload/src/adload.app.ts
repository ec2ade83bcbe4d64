import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { AdloadController } from './adload.controller';
import { adloadConfigSchema } from './adload.config';
import { AdloadService } from './adload.service';

@Module({})
class AdloadModule implements OnApplicationBootstrap {
  constructor(@Inject(AdloadService) private readonly adload: AdloadService) {}
  async onApplicationBootstrap() {
    await this.adload.start();
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
