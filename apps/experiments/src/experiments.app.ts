import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '@recsys/platform';

/** A/B experiments: assignment, metrics with confidence intervals, SRM checks and the dashboard. */
@Module({})
class ExperimentsModule {}

export const experimentsApp: AppDefinition = {
  name: 'experiments',
  title: 'Experiments service',
  description: 'A/B experiments: assignment, metrics with confidence intervals, SRM checks and the dashboard.',
  dependencies: ['bus', 'sql'],
  module: (): DynamicModule => ({ module: ExperimentsModule }),
};
