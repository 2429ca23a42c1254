-- The append-only event store. See eventstore/ for how it is used.

-- +goose Up

-- One row per stream: its current version and the head of its hash chain. Appends lock this
-- row, so two writers at the same expected version serialise here and the loser sees the
-- winner's version (a typed conflict, never a unique violation).
CREATE TABLE streams (
    stream_id  text PRIMARY KEY,
    category   text GENERATED ALWAYS AS (split_part(stream_id, '-', 1)) STORED,
    version    bigint NOT NULL CHECK (version >= 0),
    last_hash  bytea
);

-- Events in commit-safe global order: (tx_id, seq). seq comes from a sequence and is handed
-- out before commit, so a transaction that commits late can hold a smaller seq than one that
-- is already visible. tx_id is the writer's pg_current_xact_id(); a reader only returns rows
-- whose transaction is below pg_snapshot_xmin(pg_current_snapshot()), i.e. whose writer and
-- every older writer have finished, so it never moves past a row that is still to commit.
-- (The same reasoning as watermill-sql's PostgreSQL schema adapter.)
CREATE TABLE events (
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    tx_id          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id       text NOT NULL,
    stream_id      text NOT NULL,
    version        bigint NOT NULL CHECK (version > 0),
    event_type     text NOT NULL CHECK (event_type <> ''),
    data           jsonb NOT NULL,
    occurred_on    date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    actor          text NOT NULL DEFAULT '',
    role           text NOT NULL DEFAULT '',
    unit           text NOT NULL DEFAULT '',
    request_id     text NOT NULL DEFAULT '',
    correlation_id text NOT NULL DEFAULT '',
    causation_id   text NOT NULL DEFAULT '',
    hash           bytea NOT NULL,
    PRIMARY KEY (seq),
    UNIQUE (event_id),
    UNIQUE (stream_id, version)
);
CREATE INDEX events_global_order ON events (tx_id, seq);
CREATE INDEX events_recorded_at ON events (recorded_at);

-- Idempotent appends: a command id seen before returns its first result.
CREATE TABLE commands (
    command_id    text PRIMARY KEY,
    stream_id     text NOT NULL,
    fingerprint   bytea,
    first_version bigint,
    last_version  bigint,
    event_ids     text[]
);

-- The hash of one event: sha256 over the previous hash of its stream and the event's canonical
-- bytes. Append and verify both call this one definition. Timestamps enter as epoch
-- microseconds so the session's TimeZone cannot change the bytes.
-- +goose StatementBegin
CREATE FUNCTION dx_event_hash(
    prev bytea, event_id text, stream_id text, version bigint, event_type text, data jsonb,
    occurred_on date, recorded_at timestamptz, actor text, role text, unit text,
    request_id text, correlation_id text, causation_id text
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(coalesce(prev, '\x'::bytea) || convert_to(concat_ws(E'\x1f',
        event_id, stream_id, version::text, event_type, occurred_on::text,
        (extract(epoch FROM recorded_at) * 1000000)::bigint::text,
        actor, role, unit, request_id, correlation_id, causation_id, data::text), 'UTF8'))
$$;
-- +goose StatementEnd

-- Append events to a stream in one statement (one round trip, one commit).
-- p_expected: the version the caller read (0: the stream must not exist), or -1 for any.
-- Raises SQLSTATE DX001 (DETAIL: the actual version) on a version conflict and DX002 when a
-- command id comes back with another request.
-- +goose StatementBegin
CREATE FUNCTION dx_append(
    p_stream text, p_expected bigint, p_command_id text, p_fingerprint bytea,
    p_ids text[], p_types text[], p_data jsonb[], p_occurred date[], p_recorded timestamptz,
    p_actor text[], p_role text[], p_unit text[], p_request text[], p_correlation text[],
    p_causation text[]
) RETURNS TABLE (first_version bigint, last_version bigint, event_ids text[], duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_version bigint;
    v_hash    bytea;
    v_n       int := coalesce(cardinality(p_ids), 0);
    v_cmd     commands%ROWTYPE;
BEGIN
    IF p_command_id IS NOT NULL THEN
        INSERT INTO commands (command_id, stream_id, fingerprint)
        VALUES (p_command_id, p_stream, p_fingerprint) ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO v_cmd FROM commands c WHERE c.command_id = p_command_id;
            IF v_cmd.stream_id <> p_stream OR v_cmd.fingerprint IS DISTINCT FROM p_fingerprint THEN
                RAISE EXCEPTION 'command % was used before with another request', p_command_id
                    USING ERRCODE = 'DX002', DETAIL = v_cmd.stream_id;
            END IF;
            RETURN QUERY SELECT v_cmd.first_version, v_cmd.last_version, v_cmd.event_ids, true;
            RETURN;
        END IF;
    END IF;

    SELECT s.version, s.last_hash INTO v_version, v_hash
    FROM streams s WHERE s.stream_id = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO streams (stream_id, version) VALUES (p_stream, 0) ON CONFLICT DO NOTHING;
        IF FOUND THEN
            v_version := 0;
        ELSE -- a concurrent writer created the stream first and has committed
            SELECT s.version, s.last_hash INTO v_version, v_hash
            FROM streams s WHERE s.stream_id = p_stream FOR UPDATE;
        END IF;
    END IF;
    IF p_expected >= 0 AND v_version <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, not %', p_stream, v_version, p_expected
            USING ERRCODE = 'DX001', DETAIL = v_version::text;
    END IF;

    FOR i IN 1 .. v_n LOOP
        v_hash := dx_event_hash(v_hash, p_ids[i], p_stream, v_version + i, p_types[i], p_data[i],
            p_occurred[i], p_recorded, p_actor[i], p_role[i], p_unit[i], p_request[i],
            p_correlation[i], p_causation[i]);
        INSERT INTO events (event_id, stream_id, version, event_type, data, occurred_on,
            recorded_at, actor, role, unit, request_id, correlation_id, causation_id, hash)
        VALUES (p_ids[i], p_stream, v_version + i, p_types[i], p_data[i], p_occurred[i],
            p_recorded, p_actor[i], p_role[i], p_unit[i], p_request[i], p_correlation[i],
            p_causation[i], v_hash);
    END LOOP;
    UPDATE streams SET version = v_version + v_n, last_hash = v_hash WHERE stream_id = p_stream;

    IF p_command_id IS NOT NULL THEN
        UPDATE commands SET first_version = v_version + 1, last_version = v_version + v_n,
            event_ids = p_ids
        WHERE command_id = p_command_id;
    END IF;
    RETURN QUERY SELECT v_version + 1, v_version + v_n, p_ids, false;
END
$$;
-- +goose StatementEnd

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
DROP TABLE streams;
DROP FUNCTION dx_append;
DROP FUNCTION dx_event_hash;
DROP FUNCTION dx_events_immutable;
