import { DynamicModule, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONTEXT, type AppContext, type AppDefinition } from '@recsys/platform';
import { DashboardController } from './dashboard/dashboard.controller';
import { ExperimentsController } from './experiments.controller';
import { ExperimentsService } from './experiments.service';

@Module({})
class ExperimentsModule implements OnApplicationBootstrap {
  constructor(@Inject(ExperimentsService) private readonly svc: ExperimentsService) {}
  async onApplicationBootstrap() {
    await this.svc.start();
  }
}

/** A/B experiments: assignment, metrics with confidence intervals, SRM checks and the dashboard. */
export const experimentsApp: AppDefinition = {
  name: 'experiments',
  title: 'Experiments service',
  description:
    'A/B experiments: GrowthBook-compatible layered assignment with config overrides for any stage, exposures and metrics from ' +
    'feed.impressions / feed.feedback / ads.events, statistics equal to gbstats (sequential, CUPED, Bayesian, SRM), and the dashboard at /dashboard.',
  dependencies: ['bus', 'state', 'sql'],
  module: (): DynamicModule => ({
    module: ExperimentsModule,
    controllers: [ExperimentsController, DashboardController],
    providers: [{ provide: ExperimentsService, useFactory: (c: AppContext) => new ExperimentsService(c), inject: [APP_CONTEXT] }],
  }),
};
