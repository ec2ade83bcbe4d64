DROP TABLE IF EXISTS model_events;
DROP TABLE IF EXISTS model_versions;
