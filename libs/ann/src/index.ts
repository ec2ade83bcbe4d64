export * from './vector-index.port';
export { ExactIndex, type ExactIndexOptions } from './exact.index';
export { HnswIndex, type HnswParams, type HnswEngineName } from './hnsw.index';
export * from './io/texmex';
export * from './synthetic';
export * from './recall';
export { l2sq, dot, normalizeInPlace } from './distance';

// --- SPANN (written by the SPANN helper): add its export line below this marker. ---
export { SpannIndex, buildSpannForBench, DEFAULT_SPANN_PARAMS, SPANN_SWEEP_KEYS, type SpannParams, type SpannBuildOptions, type SpannCreateOptions } from './spann';
