export * from './hashing';
export * from './assignment';
export * from './metrics';
export * from './stats';
