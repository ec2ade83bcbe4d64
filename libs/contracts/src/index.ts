export * from './envelope';
export * from './topics';
export * from './validation';
export * from './state-keys';
export * from './embedding';
export * from './local';
