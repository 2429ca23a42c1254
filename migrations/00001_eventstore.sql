-- The append-only event store. See eventstore/ for how it is used.

-- +goose Up

-- Events in commit-safe global order: (tx_id, seq). seq comes from a sequence and is handed
-- out before commit, so a transaction that commits late can hold a smaller seq than one that
-- is already visible. tx_id is the writer's pg_current_xact_id(); a reader only returns rows
-- whose transaction is below pg_snapshot_xmin(pg_current_snapshot()), i.e. whose writer and
-- every older writer have finished, so it never moves past a row that is still to commit.
-- (The same reasoning as watermill-sql's PostgreSQL schema adapter.)
--
-- Two indexes only, like the bare one-row INSERT the append benchmark is measured against:
-- the global order and (stream_id, version), whose uniqueness is the optimistic concurrency
-- check. event_id is a ULID held as uuid; ULIDs are unique by construction.
-- data is json, not jsonb: the stored text is exactly the bytes the hash chain covers.
CREATE TABLE events (
    tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    event_id       uuid NOT NULL,
    stream_id      text NOT NULL,
    version        bigint NOT NULL CHECK (version > 0),
    event_type     text NOT NULL CHECK (event_type <> ''),
    data           json NOT NULL,
    occurred_on    date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    actor          text NOT NULL DEFAULT '',
    role           text NOT NULL DEFAULT '',
    unit           text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT '',
    correlation_id text NOT NULL DEFAULT '',
    causation_id   text NOT NULL DEFAULT '',
    -- sha256 over the previous event's hash in the stream and this event's canonical bytes
    -- (eventstore/hash.go).
    hash           bytea NOT NULL,
    CONSTRAINT events_global_order PRIMARY KEY (tx_id, seq),
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

-- Idempotent appends: a command id seen before returns its first result.
CREATE TABLE commands (
    command_id    text PRIMARY KEY,
    stream_id     text NOT NULL,
    fingerprint   bytea,
    first_version bigint NOT NULL,
    last_version  bigint NOT NULL,
    event_ids     uuid[] NOT NULL
);

-- Append-only: rows change only by appending. (A superuser can still disable this trigger;
-- that is what the hash chain and `dxledger verify` are for.)
-- +goose StatementBegin
CREATE FUNCTION dx_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'DX003';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION dx_events_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION dx_events_immutable();

-- +goose Down
DROP TABLE commands;
DROP TABLE events;
DROP FUNCTION dx_events_immutable;
