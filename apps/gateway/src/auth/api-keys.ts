import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase } from '@recsys/infra/sql/sql.port';
import { DomainError } from '@recsys/platform';

export const API_KEY_SCOPES = ['events:write', 'feed:read', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  scopes: ApiKeyScope[];
  ratePerSec: number | null;
  burst: number | null;
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  key_id: string;
  name: string;
  secret_sha256: string;
  scopes: string[] | string;
  rate_per_sec: number | null;
  burst: number | null;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
/** pg returns text[] as an array; some drivers give the literal `{a,b}`. */
const scopesOf = (s: string[] | string): ApiKeyScope[] =>
  (Array.isArray(s)
    ? s
    : s
        .replace(/^\{|\}$/g, '')
        .split(',')
        .filter(Boolean)) as ApiKeyScope[];

/** Key format: `rsk_<keyId 12>_<secret 43 base64url>`; the key id is public, only sha256(secret) is stored. */
const KEY_RE = /^rsk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export class ApiKeyService {
  private readonly cache = new Map<string, { at: number; row: Row | null }>();

  constructor(
    private readonly sql: SqlDatabase,
    private readonly cacheMs: number,
  ) {}

  async create(input: { name: string; scopes: ApiKeyScope[]; ratePerSec?: number; burst?: number }): Promise<ApiKeyRecord & { apiKey: string }> {
    const keyId = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12)
      .padEnd(12, '0');
    const secret = randomBytes(32).toString('base64url');
    const r = await this.sql.query<Row>(`INSERT INTO gateway_api_keys (key_id, name, secret_sha256, scopes, rate_per_sec, burst) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`, [
      keyId,
      input.name,
      sha256(secret),
      [...new Set(input.scopes)],
      input.ratePerSec ?? null,
      input.burst ?? null,
    ]);
    return { ...toRecord(r.rows[0]!), apiKey: `rsk_${keyId}_${secret}` };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const r = await this.sql.query<Row>(`SELECT * FROM gateway_api_keys ORDER BY created_at, key_id`);
    return r.rows.map(toRecord);
  }

  async revoke(keyId: string): Promise<ApiKeyRecord> {
    const r = await this.sql.query<Row>(`UPDATE gateway_api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE key_id = $1 RETURNING *`, [keyId]);
    if (r.rows.length === 0) throw new DomainError('api_key_not_found', 404, `no API key '${keyId}'`);
    this.cache.delete(keyId);
    return toRecord(r.rows[0]!);
  }

  /** The active key a presented token belongs to, or undefined (unknown, malformed, wrong secret, revoked). */
  async verify(token: string): Promise<ApiKeyRecord | undefined> {
    const m = KEY_RE.exec(token);
    if (!m) return undefined;
    const [, keyId, secret] = m;
    const row = await this.lookup(keyId!);
    if (!row || row.revoked_at !== null) return undefined;
    const a = Buffer.from(sha256(secret!), 'hex');
    const b = Buffer.from(row.secret_sha256, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
    return toRecord(row);
  }

  private async lookup(keyId: string): Promise<Row | null> {
    const now = Date.now();
    const hit = this.cache.get(keyId);
    if (hit && now - hit.at < this.cacheMs) return hit.row;
    const r = await this.sql.query<Row>(`SELECT * FROM gateway_api_keys WHERE key_id = $1`, [keyId]);
    const row = r.rows[0] ?? null;
    if (this.cacheMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(keyId, { at: now, row });
    }
    return row;
  }
}

function toRecord(r: Row): ApiKeyRecord {
  return {
    keyId: r.key_id,
    name: r.name,
    scopes: scopesOf(r.scopes),
    ratePerSec: r.rate_per_sec === null ? null : Number(r.rate_per_sec),
    burst: r.burst === null ? null : Number(r.burst),
    createdAt: iso(r.created_at)!,
    revokedAt: iso(r.revoked_at),
  };
}
