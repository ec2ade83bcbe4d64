import type { SqlDatabase, SqlExecutor } from '@recsys/infra/sql/sql.port';
import { DomainError } from '@recsys/platform/problem';

/**
 * The model registry in SQL (migrations/0002_models). Every status change runs in one transaction
 * that first locks all versions of the model name (SELECT ... FOR UPDATE), so concurrent admin
 * calls on one name are serialised; the partial unique indexes guarantee at most one live and one
 * shadow version per name whatever happens.
 *
 * Lifecycle: register -> staged; promote to shadow (the previous shadow is retired) or live (the
 * previous live is retired and remembered as this version's previous_live); rollback: the live
 * version is retired and its previous_live becomes live again; retire: any version but the live one.
 */
export type ModelStatus = 'staged' | 'shadow' | 'live' | 'retired';
export type LifecycleAction = 'registered' | 'promoted_shadow' | 'promoted_live' | 'rolled_back' | 'retired';

export interface ModelVersionSummary {
  name: string;
  version: string;
  checksum: string;
  artifactBytes: number;
  status: ModelStatus;
  previousLive: string | null;
  featureSpec: Record<string, unknown>;
  metrics: Record<string, unknown>;
  createdAt: string;
  statusChangedAt: string;
}

export interface ModelVersionRecord extends ModelVersionSummary {
  artifact: Buffer;
}

/** A status change that happened, to publish on models.lifecycle after the commit. */
export interface LifecycleChange {
  name: string;
  version: string;
  action: LifecycleAction;
  checksum: string;
  eventId: number;
}

export interface ChangeResult {
  version: ModelVersionSummary;
  changes: LifecycleChange[];
}

export interface ModelHead {
  version: string;
  checksum: string;
}

interface Row {
  name: string;
  version: string;
  checksum: string;
  artifact_bytes: number;
  status: ModelStatus;
  previous_live: string | null;
  feature_spec: Record<string, unknown>;
  metrics: Record<string, unknown>;
  created_at: Date | string;
  status_changed_at: Date | string;
  artifact?: Buffer;
}

const SUMMARY_COLUMNS = 'name, version, checksum, artifact_bytes, status, previous_live, feature_spec, metrics, created_at, status_changed_at';
const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

function summary(r: Row): ModelVersionSummary {
  return {
    name: r.name,
    version: r.version,
    checksum: r.checksum,
    artifactBytes: Number(r.artifact_bytes),
    status: r.status,
    previousLive: r.previous_live,
    featureSpec: r.feature_spec,
    metrics: r.metrics,
    createdAt: iso(r.created_at),
    statusChangedAt: iso(r.status_changed_at),
  };
}

const notFound = (name: string, version?: string) =>
  version
    ? new DomainError('model_version_not_found', 404, `model '${name}' has no version '${version}'`, { name, version })
    : new DomainError('model_not_found', 404, `no model named '${name}'`, { name });

export class ModelRegistry {
  constructor(private readonly sql: SqlDatabase) {}

  /**
   * Stores a new version as staged. Registering the same version again with the same checksum
   * is a no-op (created false); with another checksum it is a 409 version_exists.
   */
  async register(v: { name: string; version: string; artifact: Buffer; checksum: string; featureSpec: object; metrics?: object }): Promise<ChangeResult & { created: boolean }> {
    return this.sql.transaction(async (tx) => {
      const ins = await tx.query<Row>(
        `INSERT INTO model_versions (name, version, checksum, artifact, artifact_bytes, feature_spec, metrics)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
         ON CONFLICT (name, version) DO NOTHING
         RETURNING ${SUMMARY_COLUMNS}`,
        [v.name, v.version, v.checksum, v.artifact, v.artifact.length, JSON.stringify(v.featureSpec), JSON.stringify(v.metrics ?? {})],
      );
      if (ins.rowCount === 0) {
        const existing = await this.summaryOf(tx, v.name, v.version);
        if (existing && existing.checksum === v.checksum) return { version: existing, changes: [], created: false };
        throw new DomainError('version_exists', 409, `model '${v.name}' already has a version '${v.version}' with another artefact; register a new version`, {
          name: v.name,
          version: v.version,
          checksum: existing?.checksum,
        });
      }
      const change = await this.audit(tx, v.name, v.version, 'registered', null, 'staged', v.checksum);
      return { version: summary(ins.rows[0]), changes: [change], created: true };
    });
  }

  async promote(name: string, version: string, to: 'shadow' | 'live'): Promise<ChangeResult> {
    return this.sql.transaction(async (tx) => {
      const rows = await this.lock(tx, name);
      const target = rows.find((r) => r.version === version);
      if (!target) throw rows.length ? notFound(name, version) : notFound(name);
      if (target.status === to) return { version: summary(target), changes: [] };
      const changes: LifecycleChange[] = [];
      if (to === 'shadow') {
        if (target.status === 'live') throw new DomainError('model_is_live', 409, `version '${version}' of '${name}' is live; it cannot be its own shadow`, { name, version });
        const old = rows.find((r) => r.status === 'shadow');
        if (old) changes.push(await this.setStatus(tx, old, 'retired', 'retired'));
        changes.push(await this.setStatus(tx, target, 'shadow', 'promoted_shadow'));
      } else {
        const old = rows.find((r) => r.status === 'live');
        if (old) changes.push(await this.setStatus(tx, old, 'retired', 'retired'));
        await tx.query('UPDATE model_versions SET previous_live = $3 WHERE name = $1 AND version = $2', [name, version, old?.version ?? null]);
        changes.push(await this.setStatus(tx, target, 'live', 'promoted_live'));
      }
      return { version: (await this.summaryOf(tx, name, version))!, changes };
    });
  }

  /** The live version is retired and the version it replaced becomes live again. */
  async rollback(name: string): Promise<ChangeResult & { from: string }> {
    return this.sql.transaction(async (tx) => {
      const rows = await this.lock(tx, name);
      if (!rows.length) throw notFound(name);
      const live = rows.find((r) => r.status === 'live');
      if (!live) throw new DomainError('no_live_model', 409, `model '${name}' has no live version to roll back`, { name });
      const prev = live.previous_live ? rows.find((r) => r.version === live.previous_live) : undefined;
      if (!prev) throw new DomainError('no_previous_version', 409, `live version '${live.version}' of '${name}' did not replace another version`, { name, version: live.version });
      const changes = [await this.setStatus(tx, live, 'retired', 'retired'), await this.setStatus(tx, prev, 'live', 'rolled_back')];
      return { version: (await this.summaryOf(tx, name, prev.version))!, changes, from: live.version };
    });
  }

  async retire(name: string, version: string): Promise<ChangeResult> {
    return this.sql.transaction(async (tx) => {
      const rows = await this.lock(tx, name);
      const target = rows.find((r) => r.version === version);
      if (!target) throw rows.length ? notFound(name, version) : notFound(name);
      if (target.status === 'retired') return { version: summary(target), changes: [] };
      if (target.status === 'live') throw new DomainError('model_is_live', 409, `version '${version}' of '${name}' is live; promote another version or roll back first`, { name, version });
      const change = await this.setStatus(tx, target, 'retired', 'retired');
      return { version: (await this.summaryOf(tx, name, version))!, changes: [change] };
    });
  }

  async list(): Promise<{ name: string; versions: number; live: string | null; shadow: string | null }[]> {
    const r = await this.sql.query<{ name: string; versions: string; live: string | null; shadow: string | null }>(
      `SELECT name, count(*) AS versions,
              max(version) FILTER (WHERE status = 'live') AS live,
              max(version) FILTER (WHERE status = 'shadow') AS shadow
       FROM model_versions GROUP BY name ORDER BY name`,
    );
    return r.rows.map((x) => ({ ...x, versions: Number(x.versions) }));
  }

  /** Every version (newest first) and the last status changes of a model. */
  async describe(name: string, eventLimit = 50) {
    const r = await this.sql.query<Row>(`SELECT ${SUMMARY_COLUMNS} FROM model_versions WHERE name = $1 ORDER BY created_at DESC, version DESC`, [name]);
    if (!r.rowCount) throw notFound(name);
    const versions = r.rows.map(summary);
    const ev = await this.sql.query<{ id: string; version: string; action: string; from_status: string | null; to_status: string; at: Date | string }>(
      'SELECT id, version, action, from_status, to_status, at FROM model_events WHERE name = $1 ORDER BY id DESC LIMIT $2',
      [name, eventLimit],
    );
    return {
      name,
      live: versions.find((v) => v.status === 'live')?.version ?? null,
      shadow: versions.find((v) => v.status === 'shadow')?.version ?? null,
      versions,
      events: ev.rows.map((e) => ({ id: Number(e.id), version: e.version, action: e.action, from: e.from_status, to: e.to_status, at: iso(e.at) })),
    };
  }

  async version(name: string, version: string): Promise<ModelVersionSummary> {
    const v = await this.summaryOf(this.sql, name, version);
    if (!v) throw notFound(name, version);
    return v;
  }

  /** Version and checksum of the live and shadow versions: what a replica compares with what it serves. */
  async heads(name: string): Promise<{ live?: ModelHead; shadow?: ModelHead }> {
    const r = await this.sql.query<{ version: string; checksum: string; status: ModelStatus }>(
      `SELECT version, checksum, status FROM model_versions WHERE name = $1 AND status IN ('live', 'shadow')`,
      [name],
    );
    const out: { live?: ModelHead; shadow?: ModelHead } = {};
    for (const row of r.rows) out[row.status as 'live' | 'shadow'] = { version: row.version, checksum: row.checksum };
    return out;
  }

  async artifact(name: string, version: string): Promise<ModelVersionRecord> {
    const r = await this.sql.query<Row>(`SELECT ${SUMMARY_COLUMNS}, artifact FROM model_versions WHERE name = $1 AND version = $2`, [name, version]);
    if (!r.rowCount) throw notFound(name, version);
    return { ...summary(r.rows[0]), artifact: Buffer.from(r.rows[0].artifact!) };
  }

  private async lock(tx: SqlExecutor, name: string): Promise<Row[]> {
    const r = await tx.query<Row>(`SELECT ${SUMMARY_COLUMNS} FROM model_versions WHERE name = $1 ORDER BY version FOR UPDATE`, [name]);
    return r.rows;
  }

  private async summaryOf(tx: SqlExecutor, name: string, version: string): Promise<ModelVersionSummary | undefined> {
    const r = await tx.query<Row>(`SELECT ${SUMMARY_COLUMNS} FROM model_versions WHERE name = $1 AND version = $2`, [name, version]);
    return r.rowCount ? summary(r.rows[0]) : undefined;
  }

  private async setStatus(tx: SqlExecutor, row: Row, to: ModelStatus, action: LifecycleAction): Promise<LifecycleChange> {
    await tx.query('UPDATE model_versions SET status = $3, status_changed_at = now() WHERE name = $1 AND version = $2', [row.name, row.version, to]);
    const change = await this.audit(tx, row.name, row.version, action, row.status, to, row.checksum);
    row.status = to;
    return change;
  }

  private async audit(tx: SqlExecutor, name: string, version: string, action: LifecycleAction, from: ModelStatus | null, to: ModelStatus, checksum: string): Promise<LifecycleChange> {
    const r = await tx.query<{ id: string }>('INSERT INTO model_events (name, version, action, from_status, to_status) VALUES ($1, $2, $3, $4, $5) RETURNING id', [name, version, action, from, to]);
    return { name, version, action, checksum, eventId: Number(r.rows[0].id) };
  }
}
