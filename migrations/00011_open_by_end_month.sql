-- Items not yet finished (not implemented, evaluated or cancelled), counted per group and
-- month of their planned end, kept by the items projection: today's overdue count reads the
-- months before this one from here and only this month's items from pj_item_current.

-- +goose Up
CREATE TABLE pj_group_open_end (
    kind      text NOT NULL,
    unit_code text NOT NULL,
    pillar    text NOT NULL,
    sector    text NOT NULL,
    stage     text NOT NULL,
    end_month date NOT NULL,
    items     bigint NOT NULL,
    PRIMARY KEY (kind, unit_code, pillar, sector, stage, end_month)
);

-- +goose Down
DROP TABLE pj_group_open_end;
