import { z } from 'zod';

/**
 * The slates service's own settings (environment variables, validated at construction):
 *   SLATES_FEEDBACK_WINDOW_MS   a shown item not clicked within this window counts as a skip (default 1800000 = 30 min)
 *   SLATES_RETENTION_MS         join records (and the event-id dedupe) are kept this long after the window (default 7 days)
 *   SLATES_EXAMINATION          `pbm` (EM-estimated examination per position, default) or `cascade`
 *   SLATES_POSITIONS            positions the examination estimate covers (default 20)
 *   SLATES_PBM_INTERVAL_MS      how often the examination is re-estimated (default 60000)
 *   SLATES_SWEEP_INTERVAL_MS    how often due windows are closed (default 1000)
 *   SLATES_MAX_CANDIDATES       most candidates per POST /v1/slates (default 2000)
 */
export const slatesConfigSchema = z.object({
  SLATES_FEEDBACK_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30 * 60_000),
  SLATES_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(7 * 24 * 3600_000),
  SLATES_EXAMINATION: z.enum(['pbm', 'cascade']).default('pbm'),
  SLATES_POSITIONS: z.coerce.number().int().min(1).max(1000).default(20),
  SLATES_PBM_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  SLATES_SWEEP_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  SLATES_MAX_CANDIDATES: z.coerce.number().int().min(1).max(5000).default(2000),
});
export type SlatesConfig = z.output<typeof slatesConfigSchema>;

export function loadSlatesConfig(env: Record<string, string | undefined> = process.env): SlatesConfig {
  const input = Object.fromEntries(Object.keys(slatesConfigSchema.shape).flatMap((k) => (env[k] !== undefined && env[k] !== '' ? [[k, env[k]]] : [])));
  const r = slatesConfigSchema.safeParse(input);
  if (!r.success) throw new Error(`invalid slates configuration: ${r.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`);
  return r.data;
}
