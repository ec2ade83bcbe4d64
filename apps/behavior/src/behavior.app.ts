import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '../../../libs/platform/src';

/** Per-user behaviour history, SDIM bucket tables and user embeddings. */
@Module({})
class BehaviorModule {}

export const behaviorApp: AppDefinition = {
  name: 'behavior',
  title: 'Behavior service',
  description: 'Per-user behaviour history, SDIM bucket tables and user embeddings.',
  dependencies: ['bus', 'state'],
  module: (): DynamicModule => ({ module: BehaviorModule }),
};
