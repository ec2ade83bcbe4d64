import { join } from 'node:path';
import { z } from 'zod';

export const APP_NAMES = ['gateway', 'retrieval', 'behavior', 'ranking', 'slates', 'adload', 'experiments', 'ads'] as const;
export type AppName = (typeof APP_NAMES)[number];

export const DEFAULT_PORTS: Record<AppName, number> = {
  gateway: 3000,
  retrieval: 3001,
  behavior: 3002,
  ranking: 3003,
  slates: 3004,
  adload: 3005,
  experiments: 3006,
  ads: 3007,
};

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')} URL`,
  );

/**
 * Every environment variable the suite reads, validated once at boot. Unset infrastructure URLs
 * select the embedded adapters (in-process log, in-memory state, PGlite, in-process jobs).
 */
export const configSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s:]+:\d+(,[^,\s:]+:\d+)*$/, 'comma-separated host:port list')
    .optional(),
  KAFKA_CLIENT_ID: z.string().default('recsys'),
  /** Prefix of every topic and consumer group name (several suites or test runs on one cluster). */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'letters, digits, . _ -')
    .default(''),
  /** Partitions for topics the suite creates. */
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(4),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  /**
   * Embedded PostgreSQL (PGlite) data directory; unset = `${DATA_DIR}/pglite`, so registered models,
   * experiments, campaigns and policies survive a restart; `memory` = in memory (lost at exit).
   */
  PGLITE_DIR: z.string().optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Prefix for every state-store key and job queue (several suites on one Redis). */
  STATE_PREFIX: z.string().default(''),
  /** Where services keep local files (index snapshots, posting lists). */
  DATA_DIR: z.string().default('.data'),
  /**
   * Bearer token for admin routes (model registry changes, index rebuilds). Unset = open admin
   * routes, with a warning at boot: set it anywhere but a laptop.
   */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
  GATEWAY_PORT: port.default(DEFAULT_PORTS.gateway),
  RETRIEVAL_PORT: port.default(DEFAULT_PORTS.retrieval),
  BEHAVIOR_PORT: port.default(DEFAULT_PORTS.behavior),
  RANKING_PORT: port.default(DEFAULT_PORTS.ranking),
  SLATES_PORT: port.default(DEFAULT_PORTS.slates),
  ADLOAD_PORT: port.default(DEFAULT_PORTS.adload),
  EXPERIMENTS_PORT: port.default(DEFAULT_PORTS.experiments),
  ADS_PORT: port.default(DEFAULT_PORTS.ads),
  /** Apps to run in this process (comma-separated); all by default. */
  APPS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s) return [...APP_NAMES];
      const names = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !(APP_NAMES as readonly string[]).includes(n));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown app(s) ${bad.join(', ')}; known: ${APP_NAMES.join(', ')}` });
      return names as AppName[];
    }),
  /** Seed the embedded demo catalog at start (embedded mode only by default). */
  SEED_DEMO: z.enum(['auto', 'true', 'false']).default('auto'),
  BEHAVIOR_HISTORY_CAP: z.coerce.number().int().min(1).max(524_288).default(10_000),
  /**
   * Behaviour types that enter the history, SDIM tables and user embedding (comma-separated).
   * Must match the live ranking model's feature spec `history.positiveTypes`.
   */
  BEHAVIOR_TABLE_TYPES: z
    .string()
    .default('view,click,like,add_to_cart,purchase,share')
    .transform((s, ctx) => {
      const types = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const known = ['view', 'click', 'like', 'add_to_cart', 'purchase', 'share', 'hide', 'dislike'];
      const bad = types.filter((t) => !known.includes(t));
      if (bad.length || types.length === 0) ctx.addIssue({ code: 'custom', message: `unknown behaviour type(s) ${bad.join(', ') || '(none given)'}; known: ${known.join(', ')}` });
      return types;
    }),
  /** How long a behaviour for a not-yet-known item waits before it is dead-lettered. */
  BEHAVIOR_UNKNOWN_ITEM_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  SDIM_M: z.coerce.number().int().min(1).max(1024).default(48),
  SDIM_TAU: z.coerce.number().int().min(1).max(8).default(3),
  SDIM_SEED: z.coerce.number().int().default(20240501),
  EMBEDDING_DIM: z.coerce.number().int().min(1).max(4096).default(32),
  RETRIEVAL_INDEX_KIND: z.enum(['hnsw', 'spann', 'exact']).default('hnsw'),
  /** HNSW implementation: the repo's zero-copy addon (native/hnsw) or the hnswlib-node package; same file format. */
  RETRIEVAL_HNSW_ENGINE: z.enum(['native', 'hnswlib-node']).default('native'),
  RETRIEVAL_METRIC: z.enum(['cosine', 'ip', 'l2']).default('cosine'),
  /** One group per replica: every replica holds the whole catalog (shard by partition later). */
  RETRIEVAL_CONSUMER_GROUP: z.string().default('retrieval'),
  RETRIEVAL_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** The model name the ranking app serves (its live and shadow versions, from the registry). */
  RANKING_MODEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, . _ - (max 100)')
    .default('ctr'),
  /** ONNX Runtime intra-op threads per model session (1 = run on the request thread). */
  RANKING_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** 'worker': each model session in its own worker thread (loads and runs off the request loop); 'inline': on it. */
  RANKING_MODEL_ISOLATION: z.enum(['worker', 'inline']).default('worker'),
  /** Names this replica's own consumer groups (catalog, models.lifecycle); default <hostname>-<pid>. */
  RANKING_REPLICA_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, . _ -')
    .optional(),
  RANKING_MAX_CANDIDATES: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** Safety net besides models.lifecycle: how often a replica re-reads the registry. */
  RANKING_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Shadow scorings allowed to wait at once; beyond that a shadow scoring is skipped (counted), never queued. */
  RANKING_SHADOW_MAX_PENDING: z.coerce.number().int().min(0).max(1000).default(4),
  /**
   * Declared embedding dimension per catalog namespace (`items:32,ads:32`); unset = `items` and
   * `ads` at EMBEDDING_DIM. An upsert into an undeclared namespace is dead-lettered (unknown_namespace).
   */
  NAMESPACE_DIMS: z
    .string()
    .optional()
    .superRefine((s, ctx) => {
      if (s === undefined) return;
      for (const part of s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        if (!/^[a-z][a-z0-9_-]{0,63}:\d{1,4}$/.test(part)) ctx.addIssue({ code: 'custom', message: `'${part}': expected <namespace>:<dimension>` });
      }
    }),
  /** Readiness fails while a consumer partition has been stuck (failing, or behind without progress) this long. */
  CONSUMER_STUCK_AFTER_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Reads of Redis-held state answer 503 (state_unavailable) after this long instead of hanging. */
  STATE_READ_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** How often a service checks its state generation marker (a store that lost its state is rebuilt from Kafka). */
  STATE_GENERATION_CHECK_MS: z.coerce.number().int().min(100).default(2000),
  /**
   * retention.ms of user.behaviors (-1 = forever, the default): a lost store rebuilds every user's
   * capped history exactly only from behaviours still in the log (libs/messaging/README.md).
   */
  KAFKA_BEHAVIORS_RETENTION_MS: z.coerce.number().int().min(-1).default(-1),
});

export type SuiteConfig = z.output<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly problems: { key: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.key}: ${p.message}`).join('\n')}`);
  }
}

export function portOf(config: SuiteConfig, app: AppName): number {
  return config[`${app.toUpperCase()}_PORT` as keyof SuiteConfig] as number;
}

/**
 * The problems of an app's own settings (`AppDefinition.config`): its keys read from env and
 * parsed by its schema, every bad key listed. Empty when they are valid.
 */
export function appConfigProblems(schema: z.ZodObject, env: Record<string, string | undefined>): { key: string; message: string }[] {
  const input: Record<string, string> = {};
  for (const k of Object.keys(schema.shape)) {
    const v = env[k];
    if (v !== undefined && v !== '') input[k] = v;
  }
  const r = schema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ key: String(i.path[0] ?? '(config)'), message: i.message }));
}

/**
 * The suite's configuration and the own settings of every selected app, validated together at
 * boot: one ConfigError lists every bad key of all of them.
 */
export function loadProcessConfig(env: Record<string, string | undefined>, apps: { name: string; config?: z.ZodObject }[]): SuiteConfig {
  let config: SuiteConfig | undefined;
  const problems: { key: string; message: string }[] = [];
  try {
    config = loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  const selected = config ? apps.filter((a) => config!.APPS.includes(a.name as AppName)) : apps;
  for (const a of selected) if (a.config) problems.push(...appConfigProblems(a.config, env));
  if (problems.length) throw new ConfigError(problems);
  return config!;
}

/** Validates every known key at once and lists all the bad ones (never just the first). */
export function loadConfig(env: Record<string, string | undefined> = process.env): SuiteConfig {
  const known = Object.keys(configSchema.shape);
  const input: Record<string, string> = {};
  for (const k of known) {
    const v = env[k];
    if (v !== undefined && v !== '') input[k] = v;
  }
  const r = configSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => ({ key: String(i.path[0] ?? '(config)'), message: i.message })));
  }
  return { ...r.data, PGLITE_DIR: pgliteDir(r.data.PGLITE_DIR, r.data.DATA_DIR) };
}

/** The embedded database's directory: PGLITE_DIR, default `${DATA_DIR}/pglite`; `memory` = none (in memory). */
function pgliteDir(given: string | undefined, dataDir: string): string | undefined {
  if (given === 'memory') return undefined;
  return given ?? join(dataDir, 'pglite');
}
