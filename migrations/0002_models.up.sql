-- Ranking model registry: every registered version of a model with its artefact, feature spec,
-- offline metrics and lifecycle status. Serving replicas load the live (and shadow) version
-- from here at boot and whenever models.lifecycle says something changed.

CREATE TABLE model_versions (
  name              text        NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  version           text        NOT NULL CHECK (version ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$'),
  -- sha256 of the artefact, computed by the service (hex).
  checksum          text        NOT NULL CHECK (checksum ~ '^[a-f0-9]{64}$'),
  -- ONNX bytes: ranking models are small (a few MB); bytea keeps registry and artefact in one transaction.
  artifact          bytea       NOT NULL,
  artifact_bytes    integer     NOT NULL CHECK (artifact_bytes > 0),
  feature_spec      jsonb       NOT NULL,
  metrics           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status            text        NOT NULL DEFAULT 'staged' CHECK (status IN ('staged', 'shadow', 'live', 'retired')),
  -- The version that was live when this one was promoted live: where a rollback returns to.
  -- A rollback does not rewrite it, so successive rollbacks walk back through the promotions.
  previous_live     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);

-- At most one live and one shadow version per model name.
CREATE UNIQUE INDEX model_versions_one_live ON model_versions (name) WHERE status = 'live';
CREATE UNIQUE INDEX model_versions_one_shadow ON model_versions (name) WHERE status = 'shadow';

-- Audit trail of every status change (who asked is not known yet: no auth in front of the admin API).
CREATE TABLE model_events (
  id          bigserial   PRIMARY KEY,
  name        text        NOT NULL,
  version     text        NOT NULL,
  action      text        NOT NULL CHECK (action IN ('registered', 'promoted_shadow', 'promoted_live', 'rolled_back', 'retired')),
  from_status text,
  to_status   text        NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (name, version) REFERENCES model_versions (name, version) ON DELETE CASCADE
);
CREATE INDEX model_events_name_at ON model_events (name, id);
