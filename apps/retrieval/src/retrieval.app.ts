import { DynamicModule, Module } from '@nestjs/common';
import type { AppDefinition } from '../../../libs/platform/src';

/** Candidate retrieval: HNSW and SPANN-style ANN indexes fed by catalog.items. */
@Module({})
class RetrievalModule {}

export const retrievalApp: AppDefinition = {
  name: 'retrieval',
  title: 'Retrieval service',
  description: 'Candidate retrieval: HNSW and SPANN-style ANN indexes fed by catalog.items.',
  dependencies: ['bus', 'state', 'jobs'],
  module: (): DynamicModule => ({ module: RetrievalModule }),
};
