import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export function createRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Request count and latency by route template (not raw URL, to keep label cardinality bounded). */
export function httpMetricsMiddleware(registry: Registry) {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      duration.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}

const hooksByRegistry = new WeakMap<Registry, ReturnType<typeof createConsumerMetrics>>();

/** Counters every consumer of an app reports through (see startEventConsumer hooks); one set per registry. */
export function consumerMetrics(registry: Registry) {
  let hooks = hooksByRegistry.get(registry);
  if (!hooks) hooksByRegistry.set(registry, (hooks = createConsumerMetrics(registry)));
  return hooks;
}

function createConsumerMetrics(registry: Registry) {
  const applied = new Counter({ name: 'events_applied_total', help: 'events applied', labelNames: ['topic'], registers: [registry] });
  const duplicates = new Counter({ name: 'events_duplicate_total', help: 'events skipped as already applied', labelNames: ['topic'], registers: [registry] });
  const dead = new Counter({ name: 'events_dead_lettered_total', help: 'events sent to the DLQ', labelNames: ['topic', 'code'], registers: [registry] });
  return {
    onApplied: (topic: string) => applied.inc({ topic }),
    onDuplicate: (topic: string) => duplicates.inc({ topic }),
    onDeadLetter: (topic: string, code: string) => dead.inc({ topic, code }),
  };
}
