-- Consumer-group offsets of the watermill bridge (eventstore/wmbridge).

-- +goose Up

-- One row per (consumer group, topic): the global position (events.tx_id, events.seq) of the
-- last message the group acknowledged on that topic. A group's members take turns through a
-- session advisory lock, not a row lock: a row lock would give the holder a transaction id,
-- and an open transaction with an id holds back pg_snapshot_xmin, which stops every reader of
-- the store's global order until it ends.
CREATE TABLE wmbridge_offsets (
    consumer_group text NOT NULL CHECK (consumer_group <> ''),
    topic          text NOT NULL CHECK (topic <> ''),
    tx_id          xid8 NOT NULL DEFAULT '0',
    seq            bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic)
);

-- +goose Down
DROP TABLE wmbridge_offsets;
