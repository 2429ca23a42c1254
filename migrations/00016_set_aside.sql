-- Events a projection could not apply (DESIGN.md, invariant 10). A projection must not die on
-- one stored event, nor skip it in silence: the event, and every later event of its stream
-- (so that nothing of that stream is applied out of order), is set aside here with the error,
-- in the same transaction that moves the projection's checkpoint past it. Reports say how many
-- events are set aside; `dxledger projections retry` applies them again once the cause is
-- fixed and removes the rows that then apply. A rebuild skips them too, so rebuild == live.

-- +goose Up
CREATE TABLE projection_set_aside (
    projection   text NOT NULL,
    tx_id        xid8 NOT NULL,
    seq          bigint NOT NULL,
    stream_id    text NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    error        text NOT NULL,
    set_aside_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, tx_id, seq)
);
CREATE INDEX projection_set_aside_stream ON projection_set_aside (projection, stream_id);

-- +goose Down
DROP TABLE projection_set_aside;
