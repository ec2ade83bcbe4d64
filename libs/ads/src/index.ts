export * from './auction';
export * from './pacing';
export * from './traffic-profile';
export * from './spend-curve';
export * from './simulation';
