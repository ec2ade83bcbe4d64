-- Each exposed user's metric changes per day: an event of an earlier day arriving late updates
-- the cumulative statistics of every later day exactly (the daily cumulative-lift plot).
ALTER TABLE exp_exposures ADD COLUMN by_day jsonb NOT NULL DEFAULT '{}'::jsonb;
