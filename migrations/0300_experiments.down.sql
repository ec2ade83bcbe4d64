DROP TABLE exp_adload_log;
DROP TABLE exp_pending_events;
DROP TABLE exp_user_activity;
DROP TABLE exp_daily_sums;
DROP TABLE exp_variant_sums;
DROP TABLE exp_exposures;
DROP TABLE experiment_holdout;
DROP TABLE experiments;
