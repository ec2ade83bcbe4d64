-- Unattributed events expire by arrival time (wall clock), not by event time: a replayed or
-- lagging stream must not expire events whose impression is still on its way.
ALTER TABLE exp_pending_events ADD COLUMN received_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX exp_pending_events_received_at ON exp_pending_events (received_at);
