import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';
import type { ConfigOverrides, HoldoutDef, Targeting, VariantDef } from '@recsys/experiments';

export type Status = 'draft' | 'running' | 'stopped' | 'shipped';

export interface ExperimentRecord {
  key: string;
  name: string;
  description: string;
  status: Status;
  seed: string;
  coverage: number;
  variants: Array<VariantDef & { overrides: ConfigOverrides }>;
  targeting: Targeting;
  layerKey: string | null;
  layerShare: number | null;
  layerRange: [number, number] | null;
  primaryMetric: string;
  shippedVariant: string | null;
  createdAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
}

const json = (x: unknown) => (typeof x === 'string' ? JSON.parse(x) : x);
const iso = (x: unknown) => (x === null || x === undefined ? null : x instanceof Date ? x.toISOString() : new Date(String(x)).toISOString());

function fromRow(r: Record<string, unknown>): ExperimentRecord {
  return {
    key: r.key as string,
    name: r.name as string,
    description: r.description as string,
    status: r.status as Status,
    seed: r.seed as string,
    coverage: Number(r.coverage),
    variants: json(r.variants),
    targeting: json(r.targeting) ?? {},
    layerKey: (r.layer_key as string) ?? null,
    layerShare: r.layer_share === null || r.layer_share === undefined ? null : Number(r.layer_share),
    layerRange: r.layer_start === null || r.layer_start === undefined ? null : [Number(r.layer_start), Number(r.layer_end)],
    primaryMetric: r.primary_metric as string,
    shippedVariant: (r.shipped_variant as string) ?? null,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    stoppedAt: iso(r.stopped_at),
  };
}

export class ExperimentsRepository {
  constructor(private readonly db: SqlDatabase) {}

  async list(): Promise<ExperimentRecord[]> {
    const r = await this.db.query('SELECT * FROM experiments ORDER BY created_at DESC, key');
    return r.rows.map(fromRow);
  }

  async get(key: string, tx: SqlExecutor = this.db, lock = false): Promise<ExperimentRecord | undefined> {
    const r = await tx.query(`SELECT * FROM experiments WHERE key = $1${lock ? ' FOR UPDATE' : ''}`, [key]);
    return r.rows[0] ? fromRow(r.rows[0]) : undefined;
  }

  async insert(e: Omit<ExperimentRecord, 'createdAt' | 'startedAt' | 'stoppedAt' | 'shippedVariant' | 'layerRange' | 'status'>): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO experiments (key, name, description, seed, coverage, variants, targeting, layer_key, layer_share, primary_metric)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10) ON CONFLICT (key) DO NOTHING`,
      [e.key, e.name, e.description, e.seed, e.coverage, JSON.stringify(e.variants), JSON.stringify(e.targeting), e.layerKey, e.layerShare, e.primaryMetric],
    );
    return r.rowCount > 0;
  }

  async update(key: string, patch: { name?: string; description?: string; coverage?: number; primaryMetric?: string }) {
    await this.db.query(
      `UPDATE experiments SET name = coalesce($2, name), description = coalesce($3, description), coverage = coalesce($4, coverage),
              primary_metric = coalesce($5, primary_metric), updated_at = now() WHERE key = $1`,
      [key, patch.name ?? null, patch.description ?? null, patch.coverage ?? null, patch.primaryMetric ?? null],
    );
  }

  async setStatus(tx: SqlExecutor, key: string, status: Status, extra: { layerRange?: [number, number] | null; shippedVariant?: string } = {}) {
    const stamp =
      status === 'running' ? 'started_at = now(),' : status === 'stopped' ? 'stopped_at = now(),' : status === 'shipped' ? 'shipped_at = now(), stopped_at = coalesce(stopped_at, now()),' : '';
    await tx.query(
      `UPDATE experiments SET status = $2, ${stamp} updated_at = now(),
              layer_start = CASE WHEN $3::boolean THEN $4::float8 ELSE layer_start END,
              layer_end = CASE WHEN $3::boolean THEN $5::float8 ELSE layer_end END,
              shipped_variant = coalesce($6, shipped_variant)
        WHERE key = $1`,
      [key, status, extra.layerRange !== undefined, extra.layerRange?.[0] ?? null, extra.layerRange?.[1] ?? null, extra.shippedVariant ?? null],
    );
  }

  /** Ranges of a layer held by running experiments, locked (two starts in one layer serialise). */
  async layerRanges(tx: SqlExecutor, layer: string): Promise<Array<[number, number]>> {
    const r = await tx.query<{ layer_start: number; layer_end: number }>(
      `SELECT layer_start, layer_end FROM experiments WHERE layer_key = $1 AND status = 'running' AND layer_start IS NOT NULL ORDER BY key FOR UPDATE`,
      [layer],
    );
    return r.rows.map((x) => [Number(x.layer_start), Number(x.layer_end)]);
  }

  async holdout(): Promise<HoldoutDef> {
    const r = await this.db.query<{ seed: string; fraction: number }>('SELECT seed, fraction FROM experiment_holdout WHERE id = 1');
    return r.rows[0] ? { seed: r.rows[0].seed, fraction: Number(r.rows[0].fraction) } : { seed: 'global-holdout', fraction: 0 };
  }

  async setHoldout(h: HoldoutDef) {
    await this.db.query('INSERT INTO experiment_holdout (id, seed, fraction) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seed = EXCLUDED.seed, fraction = EXCLUDED.fraction', [
      h.seed,
      h.fraction,
    ]);
  }
}
