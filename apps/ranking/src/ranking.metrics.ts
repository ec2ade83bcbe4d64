import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The ranking app's Prometheus metrics (one set per app registry). */
export function rankingMetrics(registry: Registry) {
  const registers = [registry];
  const fine = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
  return {
    featureSeconds: new Histogram({ name: 'ranking_feature_seconds', help: 'feature assembly time per request (state read excluded)', buckets: fine, registers }),
    stateSeconds: new Histogram({ name: 'ranking_state_read_seconds', help: "time to read the user's SDIM tables from the state store", buckets: fine, registers }),
    modelSeconds: new Histogram({ name: 'ranking_model_seconds', help: 'model run time per request', labelNames: ['slot'], buckets: fine, registers }),
    candidates: new Histogram({ name: 'ranking_candidates', help: 'candidates per request', buckets: [1, 10, 50, 100, 200, 500, 1000, 2000, 5000], registers }),
    unknownItems: new Counter({ name: 'ranking_unknown_items_total', help: 'candidates scored with default item features (not in the catalog)', registers }),
    users: new Counter({ name: 'ranking_users_total', help: "requests by the state of the user's SDIM tables", labelNames: ['state'], registers }),
    shadowAbsDiff: new Histogram({
      name: 'ranking_shadow_abs_diff',
      help: '|live pctr - shadow pctr| per candidate',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
      registers,
    }),
    shadowScored: new Counter({ name: 'ranking_shadow_scored_total', help: 'requests scored by the shadow model too', registers }),
    shadowSkipped: new Counter({ name: 'ranking_shadow_skipped_total', help: 'shadow scorings skipped because too many were pending', registers }),
    shadowFailures: new Counter({ name: 'ranking_shadow_failures_total', help: 'shadow scorings that failed (the live response was not affected)', registers }),
    swaps: new Counter({ name: 'ranking_model_swaps_total', help: 'model swaps by slot', labelNames: ['slot'], registers }),
    loadFailures: new Counter({ name: 'ranking_model_load_failures_total', help: 'model versions this replica could not load', labelNames: ['slot'], registers }),
    loadSeconds: new Histogram({ name: 'ranking_model_load_seconds', help: 'model load + check + warm-up time', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    modelInfo: new Gauge({ name: 'ranking_model_info', help: 'the model version each slot serves (value 1)', labelNames: ['slot', 'version'], registers }),
    catalogItems: new Gauge({ name: 'ranking_catalog_items', help: 'items in the in-memory feature table', registers }),
  };
}

export type RankingMetrics = ReturnType<typeof rankingMetrics>;
