export * from './estimators';
export * from './slate';
export * from './confidence-sequence';
export * from './stats';
export * from './rng';
export * from './synthetic';
