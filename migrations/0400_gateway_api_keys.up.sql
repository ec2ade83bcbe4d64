-- Gateway API keys: one per client, with scopes and its own rate limit. Only a SHA-256 digest of
-- the secret part is stored (the secret is 256 random bits, so a fast digest is enough: it cannot be
-- brute-forced); the full key is shown once, when it is created.

CREATE TABLE gateway_api_keys (
  key_id         text        PRIMARY KEY CHECK (key_id ~ '^[a-z0-9]{12}$'),
  name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  secret_sha256  text        NOT NULL CHECK (secret_sha256 ~ '^[a-f0-9]{64}$'),
  scopes         text[]      NOT NULL CHECK (scopes <@ ARRAY['events:write', 'feed:read', 'admin']::text[] AND cardinality(scopes) > 0),
  -- Token bucket of this key: refill per second and burst; NULL = the gateway's defaults.
  rate_per_sec   double precision CHECK (rate_per_sec > 0),
  burst          integer     CHECK (burst > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  revoked_at     timestamptz
);
CREATE INDEX gateway_api_keys_active ON gateway_api_keys (created_at) WHERE revoked_at IS NULL;
