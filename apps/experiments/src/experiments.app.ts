import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { EXPERIMENTS_ASSIGN, type LocalAssign } from '@recsys/contracts';
import { APP_CONTEXT, ZodBody, type AppContext, type AppDefinition } from '@recsys/platform';
import { assignmentRequest } from './api/dto';
import { DashboardController } from './dashboard/dashboard.controller';
import { ExperimentsController } from './experiments.controller';
import { ExperimentsService } from './experiments.service';

@Module({})
class ExperimentsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ExperimentsService) private readonly svc: ExperimentsService,
    @Inject(APP_CONTEXT) private readonly ctx: AppContext,
  ) {}
  async onApplicationBootstrap() {
    await this.svc.start();
    const body = new ZodBody(assignmentRequest);
    const assign: LocalAssign = async (raw) => {
      const req = body.transform(raw);
      return this.svc.assign(req.userId, req.attributes);
    };
    this.ctx.local.provide(EXPERIMENTS_ASSIGN, assign);
  }
  onApplicationShutdown() {
    this.ctx.local.withdraw(EXPERIMENTS_ASSIGN);
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
