export * from './distributions';
export * from './statistics';
export * from './frequentist';
export * from './bayesian';
export * from './srm';
export * from './multiple';
