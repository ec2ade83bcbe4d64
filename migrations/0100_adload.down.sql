DROP TABLE IF EXISTS adload_reports;
DROP TABLE IF EXISTS adload_policies;
DROP TABLE IF EXISTS adload_outcome_events;
DROP TABLE IF EXISTS adload_outcomes;
DROP TABLE IF EXISTS adload_decisions;
