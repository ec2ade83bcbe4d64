import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '../../../libs/platform/src';

/** Multi-domain CTR ranking with routed experts on ONNX Runtime; model registry, hot swap, shadow scoring. */
@Module({})
class RankingModule {}

export const rankingApp: AppDefinition = {
  name: 'ranking',
  title: 'Ranking service',
  description: 'Multi-domain CTR ranking with routed experts on ONNX Runtime; model registry, hot swap, shadow scoring.',
  dependencies: ['bus', 'state', 'sql'],
  module: (): DynamicModule => ({ module: RankingModule }),
};
