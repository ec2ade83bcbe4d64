import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '@recsys/platform';

/** Ad-load decisions with logged propensities, off-policy evaluation, campaigns, auctions and budgets. */
@Module({})
class AdloadModule {}

export const adloadApp: AppDefinition = {
  name: 'adload',
  title: 'Adload service',
  description: 'Ad-load decisions with logged propensities, off-policy evaluation, campaigns, auctions and budgets.',
  dependencies: ['bus', 'state', 'sql', 'jobs'],
  module: (): DynamicModule => ({ module: AdloadModule }),
};
