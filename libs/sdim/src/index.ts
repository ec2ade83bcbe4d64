export * from './prng';
export * from './hasher';
export * from './bucket-tables';
export * from './reference';
export * from './codec';
export * from './keys';
export * from './patch';
export * from './tail';
