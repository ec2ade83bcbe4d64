DROP INDEX exp_pending_events_received_at;
ALTER TABLE exp_pending_events DROP COLUMN received_at;
