import { parseNamespaceDims } from '@recsys/contracts';
import type { SuiteConfig } from './config';

/**
 * The declared embedding dimension of every catalog namespace: NAMESPACE_DIMS, or `items` and
 * `ads` at EMBEDDING_DIM when it is unset. Every consumer (retrieval, behavior, ranking) and every
 * route that takes a vector checks against it; a namespace's first message never decides it.
 */
export function namespaceDims(config: Pick<SuiteConfig, 'NAMESPACE_DIMS' | 'EMBEDDING_DIM'>): Record<string, number> {
  if (config.NAMESPACE_DIMS) return parseNamespaceDims(config.NAMESPACE_DIMS);
  return { items: config.EMBEDDING_DIM, ads: config.EMBEDDING_DIM };
}
