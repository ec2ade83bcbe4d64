export * from './app-context';
export * from './bootstrap';
export * from './config';
export * from './logger';
export * from './metrics';
export * from './problem';
export * from './zod-body';
export * from './suite';
