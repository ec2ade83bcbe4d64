-- Control-plane tables the platform itself needs.

-- Idempotency ledger for consumers whose effects land in SQL: insert (consumer, event_id) in
-- the same transaction as the effect, ON CONFLICT DO NOTHING; rowCount 0 means "already done".
CREATE TABLE processed_events (
  consumer     text        NOT NULL,
  event_id     text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- A queryable copy of what went to a <topic>.dlq topic, with the reason it was rejected.
-- "offset" is text: Kafka offsets are int64 strings in kafkajs and must not lose precision.
CREATE TABLE dead_letters (
  id          bigserial   PRIMARY KEY,
  topic       text        NOT NULL,
  partition   int,
  "offset"    text,
  key         text,
  reason      text        NOT NULL,
  payload     bytea,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_topic_received_at ON dead_letters (topic, received_at);
