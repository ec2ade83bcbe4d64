import { z } from 'zod';
import type { SurfaceConfig } from './domain/policy';

const surfaceSchema = z.strictObject({
  actions: z.array(z.number().int().min(0).max(50)).min(2).max(20),
  pageSize: z.number().int().min(1).max(500).default(10),
  lambda: z.number().min(0).default(1),
});

/** The adload app's own settings (ADLOAD_*), validated at boot like the suite's. */
export const adloadConfigSchema = z.object({
  /** JSON: surface -> {actions: ads per page of each action, pageSize, lambda (revenue weight)}. */
  ADLOAD_SURFACES: z
    .string()
    .default('{"home":{"actions":[0,1,2,3],"pageSize":10,"lambda":1}}')
    .transform((s, ctx) => {
      try {
        return z.record(z.string().regex(/^[a-z0-9_-]{1,100}$/), surfaceSchema).parse(JSON.parse(s)) as Record<string, SurfaceConfig>;
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `ADLOAD_SURFACES: ${(e as Error).message}` });
        return z.NEVER;
      }
    }),
  /** Exploration floor: every action keeps probability >= epsilon / |A|. */
  ADLOAD_EPSILON: z.coerce.number().gt(0).max(1).default(0.1),
  /** Softmax temperature of learned policies, in objective units. */
  ADLOAD_TEMPERATURE: z.coerce.number().gt(0).default(0.05),
  /** Day partitions of the decision log kept (older ones are dropped). */
  ADLOAD_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Another fetch by the user within this many minutes counts as session continuation. */
  ADLOAD_CONTINUATION_MINUTES: z.coerce.number().min(0.01).max(1440).default(30),
  ADLOAD_BATCH_SIZE: z.coerce.number().int().min(1).max(20_000).default(5000),
  ADLOAD_FLUSH_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  /** Learning job period (0 = only on demand through POST /v1/adload/learn). */
  ADLOAD_LEARN_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** The learning window: decisions older than this are not used (outcomes need time to arrive, see ADLOAD_LEARN_DELAY_MS). */
  ADLOAD_LEARN_WINDOW_HOURS: z.coerce
    .number()
    .gt(0)
    .max(24 * 365)
    .default(72),
  /** Decisions younger than this are left out of a learning window (their outcomes are still arriving). */
  ADLOAD_LEARN_DELAY_MS: z.coerce.number().int().min(0).default(0),
  /** Satisfaction guardrail tolerance (satisfaction units per fetch). */
  ADLOAD_GUARDRAIL_TOLERANCE: z.coerce.number().min(0).default(0.01),
  /** Promote a staged winner automatically when its objective lower bound beats the live estimate. */
  ADLOAD_AUTO_PROMOTE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((s) => s === 'true'),
  /** Bootstrap resamples per reported interval (0: normal intervals only). Cost grows with resamples x window size. */
  ADLOAD_BOOTSTRAP_RESAMPLES: z.coerce.number().int().min(0).max(10_000).default(100),
  /** Fewest joined decisions a learning run needs. */
  ADLOAD_MIN_ROUNDS: z.coerce.number().int().min(1).default(500),
});
export type AdloadConfig = z.output<typeof adloadConfigSchema>;

export function loadAdloadConfig(env: Record<string, string | undefined> = process.env): AdloadConfig {
  const input: Record<string, string> = {};
  for (const k of Object.keys(adloadConfigSchema.shape)) if (env[k] !== undefined && env[k] !== '') input[k] = env[k]!;
  const r = adloadConfigSchema.safeParse(input);
  if (!r.success) throw new Error(`invalid adload configuration:\n${r.error.issues.map((i) => `  ${String(i.path[0] ?? '')}: ${i.message}`).join('\n')}`);
  return r.data;
}
