-- Units divided among successors (issue 12 point 7): from effective_date each item named in a
-- part of the split goes to that part's successor (into_code); item_id '' is the rest, every
-- item the split names in no part. Reports grouped by unit, lists and rights follow them.

-- +goose Up
CREATE TABLE pj_unit_splits (
    code           text NOT NULL,
    item_id        text NOT NULL,
    into_code      text NOT NULL,
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (code, item_id)
);

-- +goose Down
DROP TABLE pj_unit_splits;
