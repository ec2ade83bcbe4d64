-- A/B experiments (apps/experiments): definitions and lifecycle, the global holdout, exposures
-- with per-user metric totals, per-variant sufficient statistics maintained incrementally, and
-- their daily deltas (the cumulative-lift plot). See apps/experiments/README.md.

CREATE TABLE experiments (
  key            text        PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
  name           text        NOT NULL,
  description    text        NOT NULL DEFAULT '',
  status         text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped', 'shipped')),
  -- GrowthBook hash seed of the variant split (hash version 2).
  seed           text        NOT NULL,
  coverage       double precision NOT NULL CHECK (coverage >= 0 AND coverage <= 1),
  -- [{key, weight, overrides}], the first variant is the control.
  variants       jsonb       NOT NULL,
  -- {surfaces?, domains?, attributes?}
  targeting      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  layer_key      text,
  -- Share of the layer asked for, and the range of the layer's hash it holds while running.
  layer_share    double precision CHECK (layer_share > 0 AND layer_share <= 1),
  layer_start    double precision,
  layer_end      double precision,
  -- Key metric for the dashboard's cumulative-lift plot.
  primary_metric text        NOT NULL DEFAULT 'ctr',
  shipped_variant text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  stopped_at     timestamptz,
  shipped_at     timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX experiments_status ON experiments (status);

-- The global holdout (one row): users whose holdout hash is below fraction get no experiment.
CREATE TABLE experiment_holdout (
  id       int PRIMARY KEY CHECK (id = 1),
  seed     text NOT NULL,
  fraction double precision NOT NULL CHECK (fraction >= 0 AND fraction < 1)
);
INSERT INTO experiment_holdout (id, seed, fraction) VALUES (1, 'global-holdout', 0);

-- First exposure of a user to an experiment (from feed.impressions `variants`) and the user's
-- metric totals since then (post) and over the 14 days before (pre, CUPED covariates).
CREATE TABLE exp_exposures (
  experiment_key  text   NOT NULL REFERENCES experiments (key) ON DELETE CASCADE,
  user_id         text   NOT NULL,
  variant         text   NOT NULL,
  first_ts        bigint NOT NULL,
  last_active_day date   NOT NULL,
  totals          jsonb  NOT NULL,
  pre             jsonb  NOT NULL,
  PRIMARY KEY (experiment_key, user_id)
);
CREATE INDEX exp_exposures_user ON exp_exposures (user_id);

-- Sufficient statistics per variant: n, s.<col>, q.<col> (squares), p.<a*b> (products).
CREATE TABLE exp_variant_sums (
  experiment_key text  NOT NULL REFERENCES experiments (key) ON DELETE CASCADE,
  variant        text  NOT NULL,
  sums           jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (experiment_key, variant)
);

-- What each day added to the variant sums: prefix sums give the cumulative statistics per day.
CREATE TABLE exp_daily_sums (
  experiment_key text  NOT NULL REFERENCES experiments (key) ON DELETE CASCADE,
  variant        text  NOT NULL,
  day            date  NOT NULL,
  sums           jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (experiment_key, variant, day)
);

-- Per-user daily activity of every user (the pre-exposure period of CUPED).
CREATE TABLE exp_user_activity (
  user_id  text NOT NULL,
  day      date NOT NULL,
  fetches  double precision NOT NULL DEFAULT 0,
  clicks   double precision NOT NULL DEFAULT 0,
  dwell_sec double precision NOT NULL DEFAULT 0,
  revenue  double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
);

-- Feedback and ad events of users not exposed yet (they may race their impression on another
-- topic): applied when the exposure arrives, dropped after a day.
CREATE TABLE exp_pending_events (
  event_id text   PRIMARY KEY,
  user_id  text   NOT NULL,
  ts       bigint NOT NULL,
  deltas   jsonb  NOT NULL
);
CREATE INDEX exp_pending_events_user ON exp_pending_events (user_id);
CREATE INDEX exp_pending_events_ts ON exp_pending_events (ts);

-- Logged ad-load decisions with their propensities and the clicks of their fetch: the off-policy
-- estimate of an ad-load variant before launch (kept for 14 days).
CREATE TABLE exp_adload_log (
  request_id text   PRIMARY KEY,
  ts         bigint NOT NULL,
  policy_id  text   NOT NULL,
  ad_slots   int    NOT NULL,
  propensity double precision NOT NULL,
  clicks     double precision NOT NULL DEFAULT 0
);
CREATE INDEX exp_adload_log_ts ON exp_adload_log (ts);
