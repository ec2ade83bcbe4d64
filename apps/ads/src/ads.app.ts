import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '@recsys/platform';

/** Campaigns and creatives, eligibility, the multi-slot auction on eCPM, paced budgets and delivery. */
@Module({})
class AdsModule {}

export const adsApp: AppDefinition = {
  name: 'ads',
  title: 'Ads service',
  description: 'Campaigns and creatives, eligibility, the multi-slot auction on eCPM, paced budgets with atomic spend, and delivery.',
  dependencies: ['bus', 'state', 'sql'],
  module: (): DynamicModule => ({ module: AdsModule }),
};
