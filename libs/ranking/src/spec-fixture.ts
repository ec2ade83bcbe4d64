import { parseFeatureSpec, type FeatureSpec } from './feature-spec';
import { DEFAULT_NORMALIZATION } from '@recsys/sdim/bucket-tables';

/** MovieLens genre names in u.genre order (the training side's itemDense.genres). */
export const MOVIELENS_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/**
 * A valid feature spec v1 in the shape CONTRACT.md shows, for tests, the synthetic benchmark model
 * and local development; `overrides` replace top-level blocks.
 */
export function exampleFeatureSpec(overrides: Partial<Record<keyof FeatureSpec, unknown>> = {}): FeatureSpec {
  const genres = (overrides.itemDense as FeatureSpec['itemDense'] | undefined)?.genres ?? MOVIELENS_GENRES;
  const d = (overrides.embedding as FeatureSpec['embedding'] | undefined)?.dim ?? 32;
  return parseFeatureSpec({
    specVersion: 1,
    model: { name: 'ctr', kind: 'adaptdhm', routingDim: 4 },
    domains: ['family', 'thrill', 'drama'],
    hash: { fn: 'fnv1a32', userBuckets: 2048, itemBuckets: 4096 },
    itemDense: { genres, yearOffset: 1900, yearScale: 100, yearDefault: 0.9 },
    embedding: { dim: d },
    sdim: { seed: 20240501, m: 48, tau: 3, d, normalize: DEFAULT_NORMALIZATION },
    history: { positiveTypes: ['click'] },
    inputs: [
      { name: 'user_bucket', dtype: 'int64', shape: [-1] },
      { name: 'item_bucket', dtype: 'int64', shape: [-1] },
      { name: 'domain', dtype: 'int64', shape: [-1] },
      { name: 'item_dense', dtype: 'float32', shape: [-1, genres.length + 1] },
      { name: 'item_emb', dtype: 'float32', shape: [-1, d] },
      { name: 'sdim_interest', dtype: 'float32', shape: [-1, d] },
    ],
    outputs: ['pctr', 'routing'],
    training: { data: 'synthetic', seed: 0, epochs: 0, createdAt: '2024-05-01T00:00:00Z' },
    ...overrides,
  });
}
