import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import type { Policy, PolicyParams } from './policy';
import type { ReportBody } from '../adload.service';

export type PolicyStatus = 'live' | 'staged' | 'retired' | 'superseded';

export interface PolicyRow extends Policy {
  status: PolicyStatus;
  reportId?: string;
  createdAt: string;
  promotedAt?: string;
  retiredAt?: string;
}

/** A row of adload_policies as the driver returns it (pg and PGlite: numbers may come as strings, jsonb as text). */
interface PolicyDbRow {
  policy_id: string;
  surface: string;
  version: number | string;
  status: PolicyStatus;
  params: string | PolicyRow['params'];
  report_id: string | null;
  created_at: string | Date;
  promoted_at: string | Date | null;
  retired_at: string | Date | null;
}

interface ReportDbRow {
  report_id: string;
  surface: string;
  created_at: string | Date;
  body: string | ReportBody;
}

const row = (r: PolicyDbRow): PolicyRow => ({
  policyId: r.policy_id,
  surface: r.surface,
  version: Number(r.version),
  status: r.status,
  params: typeof r.params === 'string' ? JSON.parse(r.params) : r.params,
  reportId: r.report_id ?? undefined,
  createdAt: new Date(r.created_at).toISOString(),
  promotedAt: r.promoted_at ? new Date(r.promoted_at).toISOString() : undefined,
  retiredAt: r.retired_at ? new Date(r.retired_at).toISOString() : undefined,
});

/** Policies per surface: one live, at most one staged, the rest history (never deleted). */
export class PolicyStore {
  constructor(private readonly sql: SqlDatabase) {}

  async live(surface: string, initial: () => PolicyParams): Promise<PolicyRow> {
    const r = await this.sql.query<PolicyDbRow>(`SELECT * FROM adload_policies WHERE surface = $1 AND status = 'live'`, [surface]);
    if (r.rows[0]) return row(r.rows[0]);
    await this.sql.query(`INSERT INTO adload_policies (policy_id, surface, version, status, params, promoted_at) VALUES ($1, $2, 1, 'live', $3::jsonb, now()) ON CONFLICT DO NOTHING`, [
      `${surface}-v1`,
      surface,
      JSON.stringify(initial()),
    ]);
    const again = await this.sql.query<PolicyDbRow>(`SELECT * FROM adload_policies WHERE surface = $1 AND status = 'live'`, [surface]);
    return row(again.rows[0]);
  }

  async list(surface?: string): Promise<PolicyRow[]> {
    const r = surface
      ? await this.sql.query<PolicyDbRow>(`SELECT * FROM adload_policies WHERE surface = $1 ORDER BY surface, version DESC`, [surface])
      : await this.sql.query<PolicyDbRow>(`SELECT * FROM adload_policies ORDER BY surface, version DESC`);
    return r.rows.map(row);
  }

  async get(policyId: string): Promise<PolicyRow | undefined> {
    const r = await this.sql.query<PolicyDbRow>(`SELECT * FROM adload_policies WHERE policy_id = $1`, [policyId]);
    return r.rows[0] ? row(r.rows[0]) : undefined;
  }

  /** Stages a new version (a previous staged one becomes `superseded`). */
  async stage(surface: string, params: PolicyParams, reportId: string): Promise<PolicyRow> {
    return this.sql.transaction(async (tx) => {
      await tx.query(`UPDATE adload_policies SET status = 'superseded', retired_at = now() WHERE surface = $1 AND status = 'staged'`, [surface]);
      const v = await tx.query<{ v: number }>(`SELECT coalesce(max(version), 0) + 1 AS v FROM adload_policies WHERE surface = $1`, [surface]);
      const version = Number(v.rows[0].v);
      const id = `${surface}-v${version}-${randomUUID().slice(0, 8)}`;
      const r = await tx.query<PolicyDbRow>(`INSERT INTO adload_policies (policy_id, surface, version, status, params, report_id) VALUES ($1, $2, $3, 'staged', $4::jsonb, $5) RETURNING *`, [
        id,
        surface,
        version,
        JSON.stringify(params),
        reportId,
      ]);
      return row(r.rows[0]);
    });
  }

  /** Staged -> live; the live one is retired. */
  async promote(policyId: string): Promise<PolicyRow> {
    return this.sql.transaction(async (tx) => {
      const p = await tx.query<PolicyDbRow>(`SELECT * FROM adload_policies WHERE policy_id = $1 FOR UPDATE`, [policyId]);
      const cur = p.rows[0] ? row(p.rows[0]) : undefined;
      if (!cur || cur.status !== 'staged') throw new Error('not staged');
      await tx.query(`UPDATE adload_policies SET status = 'retired', retired_at = now() WHERE surface = $1 AND status = 'live'`, [cur.surface]);
      const r = await tx.query<PolicyDbRow>(`UPDATE adload_policies SET status = 'live', promoted_at = now() WHERE policy_id = $1 RETURNING *`, [policyId]);
      return row(r.rows[0]);
    });
  }

  async saveReport(surface: string, body: unknown): Promise<string> {
    const id = `rep-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    await this.sql.query(`INSERT INTO adload_reports (report_id, surface, body) VALUES ($1, $2, $3::jsonb)`, [id, surface, JSON.stringify(body)]);
    return id;
  }

  async report(id: string): Promise<{ reportId: string; surface: string; createdAt: string; body: ReportBody } | undefined> {
    const r = await this.sql.query<ReportDbRow>(`SELECT * FROM adload_reports WHERE report_id = $1`, [id]);
    const x = r.rows[0];
    if (!x) return undefined;
    return { reportId: x.report_id, surface: x.surface, createdAt: new Date(x.created_at).toISOString(), body: typeof x.body === 'string' ? JSON.parse(x.body) : x.body };
  }
}
