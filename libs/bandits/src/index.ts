export * from './rng';
export * from './math';
export * from './posterior';
export * from './beliefs';
export * from './policies';
export * from './propensity';
export * from './examination';
