-- Ads: campaigns, their creatives, and the fills (the price each auction winner pays, recorded
-- with the fill). Money is in micros of the account currency (1.25 = 1250000).

CREATE TABLE ad_campaigns (
  id                  text             PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  name                text             NOT NULL,
  status              text             NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'archived')),
  bid_type            text             NOT NULL CHECK (bid_type IN ('cpc', 'cpm')),
  -- CPC: per click; CPM: per thousand impressions.
  bid_micros          bigint           NOT NULL CHECK (bid_micros > 0),
  daily_budget_micros bigint           NOT NULL CHECK (daily_budget_micros > 0),
  total_budget_micros bigint           CHECK (total_budget_micros IS NULL OR total_budget_micros > 0),
  start_at            timestamptz,
  end_at              timestamptz,
  -- IANA zone of the campaign's day: the daily budget and frequency caps reset at its midnight.
  time_zone           text             NOT NULL DEFAULT 'UTC',
  -- {surfaces?: string[], segments?: string[], itemGroups?: string[]}: an empty or absent list matches all.
  targeting           jsonb            NOT NULL DEFAULT '{}'::jsonb,
  -- Impressions per user per campaign-local day; NULL = no cap.
  frequency_cap       integer          CHECK (frequency_cap IS NULL OR frequency_cap > 0),
  -- CTR assumed when the ranking service cannot score the ad.
  prior_ctr           double precision NOT NULL DEFAULT 0.01 CHECK (prior_ctr > 0 AND prior_ctr <= 1),
  version             integer          NOT NULL DEFAULT 1,
  created_at          timestamptz      NOT NULL DEFAULT now(),
  updated_at          timestamptz      NOT NULL DEFAULT now(),
  CHECK (end_at IS NULL OR start_at IS NULL OR end_at > start_at)
);
CREATE INDEX ad_campaigns_status ON ad_campaigns (status);

CREATE TABLE ad_creatives (
  id          text        PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
  campaign_id text        NOT NULL REFERENCES ad_campaigns (id) ON DELETE CASCADE,
  title       text        NOT NULL DEFAULT '',
  click_url   text,
  -- float array: the vector published to catalog.items (namespace ads) for retrieval.
  embedding   jsonb       NOT NULL,
  status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ad_creatives_campaign ON ad_creatives (campaign_id);

CREATE TABLE ad_fills (
  request_id  text             NOT NULL,
  ad_id       text             NOT NULL,
  campaign_id text             NOT NULL,
  user_id     text             NOT NULL,
  surface     text             NOT NULL,
  position    integer          NOT NULL,
  slot        integer          NOT NULL,
  bid_type    text             NOT NULL,
  -- per click (CPC) or per mille (CPM), micros
  price_micros bigint          NOT NULL,
  ecpm        double precision NOT NULL,
  pctr        double precision NOT NULL,
  token       text             NOT NULL,
  created_at  timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (request_id, ad_id)
);
CREATE INDEX ad_fills_campaign_created ON ad_fills (campaign_id, created_at);
