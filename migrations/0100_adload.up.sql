-- Ad-load decision log (partitioned by day: partitions are created and dropped by the adload app,
-- see apps/adload/src/domain/decision-log.ts), outcomes joined from feed.feedback / ads.events /
-- session continuation, the event-id ledger of those joins, policies (history kept) and OPE reports.
CREATE TABLE adload_decisions (
  decision_id text NOT NULL,
  ts timestamptz NOT NULL,
  request_id text NOT NULL,
  user_id text NOT NULL,
  surface text NOT NULL,
  session_fetch_index integer NOT NULL,
  context_key text NOT NULL,
  context jsonb NOT NULL,
  action integer NOT NULL,
  ad_slots integer NOT NULL,
  propensity double precision NOT NULL CHECK (propensity > 0 AND propensity <= 1),
  probs double precision[] NOT NULL,
  policy_id text NOT NULL,
  policy_version integer NOT NULL,
  PRIMARY KEY (decision_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX adload_decisions_request ON adload_decisions (request_id);
CREATE INDEX adload_decisions_user_ts ON adload_decisions (user_id, ts);

CREATE TABLE adload_outcomes (
  request_id text PRIMARY KEY,
  clicks integer NOT NULL DEFAULT 0,
  hides integer NOT NULL DEFAULT 0,
  dwell_ms double precision NOT NULL DEFAULT 0,
  ad_clicks integer NOT NULL DEFAULT 0,
  revenue_micros bigint NOT NULL DEFAULT 0,
  continued boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE adload_outcome_events (
  event_id text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE adload_policies (
  policy_id text PRIMARY KEY,
  surface text NOT NULL,
  version integer NOT NULL,
  status text NOT NULL CHECK (status IN ('live', 'staged', 'retired', 'superseded')),
  params jsonb NOT NULL,
  report_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  promoted_at timestamptz,
  retired_at timestamptz,
  UNIQUE (surface, version)
);
CREATE UNIQUE INDEX adload_policies_one_live ON adload_policies (surface) WHERE status = 'live';
CREATE UNIQUE INDEX adload_policies_one_staged ON adload_policies (surface) WHERE status = 'staged';

CREATE TABLE adload_reports (
  report_id text PRIMARY KEY,
  surface text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  body jsonb NOT NULL
);
