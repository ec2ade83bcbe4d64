import type { Metric } from '@recsys/ann/vector-index.port';

/** API scores are "higher is better": similarity for ip/cosine, negated squared distance for l2. */
export function scoreOf(metric: Metric, distance: number): number {
  return metric === 'l2' ? -distance : 1 - distance;
}
