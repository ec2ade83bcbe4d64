import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '@recsys/platform';

/** Feed orchestration with deadlines and fallbacks; the HTTP event collector. */
@Module({})
class GatewayModule {}

export const gatewayApp: AppDefinition = {
  name: 'gateway',
  title: 'Gateway service',
  description: 'Feed orchestration with deadlines and fallbacks; the HTTP event collector.',
  dependencies: ['bus'],
  module: (): DynamicModule => ({ module: GatewayModule }),
};
