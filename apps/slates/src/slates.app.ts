import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '@recsys/platform';

/** Slate building with in-slate Thompson sampling over per-item and per-group posteriors. */
@Module({})
class SlatesModule {}

export const slatesApp: AppDefinition = {
  name: 'slates',
  title: 'Slates service',
  description: 'Slate building with in-slate Thompson sampling over per-item and per-group posteriors.',
  dependencies: ['bus', 'state'],
  module: (): DynamicModule => ({ module: SlatesModule }),
};
