-- The reports of today, already summed: one row per kind, unit, pillar, sector and stage,
-- kept by the items projection in the same transaction as the items' current rows. Overdue
-- counts depend on the day, not on events, so they are counted from pj_item_current, where
-- the index below finds the items past their end date.

-- +goose Up
CREATE TABLE pj_group_current (
    kind          text NOT NULL,
    unit_code     text NOT NULL,
    pillar        text NOT NULL,
    sector        text NOT NULL,
    stage         text NOT NULL,
    items         bigint NOT NULL,
    distinct_models bigint NOT NULL,
    with_gap      bigint NOT NULL,
    estimated_vnd bigint NOT NULL,
    requested_vnd bigint NOT NULL,
    approved_vnd  bigint NOT NULL,
    disbursed_vnd bigint NOT NULL,
    gap_vnd       bigint NOT NULL,
    progress      bigint NOT NULL,
    PRIMARY KEY (kind, unit_code, pillar, sector, stage)
);
CREATE INDEX pj_item_current_end_date ON pj_item_current (end_date);

-- +goose Down
DROP INDEX pj_item_current_end_date;
DROP TABLE pj_group_current;
