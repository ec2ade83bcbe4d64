export * from './fnv1a';
export * from './feature-spec';
export * from './item-features';
export * from './feature-assembly';
export * from './spec-fixture';
