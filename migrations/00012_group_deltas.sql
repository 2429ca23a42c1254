-- Reports "as of" a business day and "as known at" a moment, without folding every fact.
--
-- What one item adds to a report at business day D as known at moment K is a step function of
-- (D, K): it changes only on the days of its facts (and the day after its planned end, for
-- overdue) and at the moments they were recorded. The items projection keeps, per group, the
-- two-dimensional differences of those functions: a report at (D, K) is the sum of the rows
-- with day <= D and recorded_at <= K. A row is the sum of what every item changes at that exact
-- (day, recorded_at), so the rows do not depend on how events were batched: a rebuild writes
-- the same rows as the live projection. Rows that sum to zero are not kept.
--
-- The primary keys carry the figures (INCLUDE) and autovacuum visits these tables often, so
-- that a report reads the rows of a range of days from the index alone: rows are written in
-- order of recording, so the rows of one month are scattered over the whole table.
--
-- To read fewer rows, recording time is cut into buckets of about the same number of facts
-- (pj_delta_buckets: a bucket closes after so many facts, at a moment later than every fact
-- seen so far, so a recorded_at's bucket never changes). For every closed bucket the
-- projection keeps the sums of all rows recorded up to its end, per group and month of the
-- business day, once per grouping a report uses (unit, pillar, sector). A report then reads
-- those sums for the months before D's, and the single rows only for D's own month and for
-- the bucket that holds K.

-- +goose Up
CREATE TABLE pj_group_deltas (
    day             date NOT NULL,
    recorded_at     timestamptz NOT NULL,
    kind            text NOT NULL,
    unit_code       text NOT NULL,
    pillar          text NOT NULL,
    sector          text NOT NULL,
    stage           text NOT NULL,
    items           bigint NOT NULL,
    distinct_models bigint NOT NULL,
    with_gap        bigint NOT NULL,
    overdue         bigint NOT NULL,
    estimated_vnd   bigint NOT NULL,
    requested_vnd   bigint NOT NULL,
    approved_vnd    bigint NOT NULL,
    disbursed_vnd   bigint NOT NULL,
    gap_vnd         bigint NOT NULL,
    progress        bigint NOT NULL,
    PRIMARY KEY (day, recorded_at, kind, unit_code, pillar, sector, stage)
        INCLUDE (items, distinct_models, with_gap, overdue, estimated_vnd, requested_vnd, approved_vnd, disbursed_vnd,
            gap_vnd, progress)
) WITH (autovacuum_vacuum_insert_scale_factor = 0.02);
CREATE INDEX pj_group_deltas_recorded ON pj_group_deltas (recorded_at);

-- Money by funding source and year, of items that are not cancelled at (D, K).
CREATE TABLE pj_money_deltas (
    day           date NOT NULL,
    recorded_at   timestamptz NOT NULL,
    kind          text NOT NULL,
    source        text NOT NULL,
    year          int NOT NULL,
    requested_vnd bigint NOT NULL,
    approved_vnd  bigint NOT NULL,
    disbursed_vnd bigint NOT NULL,
    PRIMARY KEY (day, recorded_at, kind, source, year) INCLUDE (requested_vnd, approved_vnd, disbursed_vnd)
) WITH (autovacuum_vacuum_insert_scale_factor = 0.02);
CREATE INDEX pj_money_deltas_recorded ON pj_money_deltas (recorded_at);

-- Bucket n holds the rows recorded from its starts_at to the next bucket's; bucket 0 starts at
-- -infinity and the last one is open. facts counts the item facts applied while the bucket was
-- open; max_recorded_at is the latest recorded_at seen by then.
CREATE TABLE pj_delta_buckets (
    bucket          int PRIMARY KEY,
    starts_at       timestamptz NOT NULL,
    facts           bigint NOT NULL,
    max_recorded_at timestamptz NOT NULL
);

-- For each closed bucket: the sums of the rows of pj_group_deltas recorded up to its end, per
-- month of their day, grouped by one report dimension (dim: unit, pillar or sector; key: its
-- value), kind and stage.
CREATE TABLE pj_group_delta_sums (
    bucket          int NOT NULL,
    dim             text NOT NULL,
    month           date NOT NULL,
    kind            text NOT NULL,
    key             text NOT NULL,
    stage           text NOT NULL,
    items           bigint NOT NULL,
    distinct_models bigint NOT NULL,
    with_gap        bigint NOT NULL,
    overdue         bigint NOT NULL,
    estimated_vnd   bigint NOT NULL,
    requested_vnd   bigint NOT NULL,
    approved_vnd    bigint NOT NULL,
    disbursed_vnd   bigint NOT NULL,
    gap_vnd         bigint NOT NULL,
    progress        bigint NOT NULL,
    PRIMARY KEY (bucket, dim, month, kind, key, stage)
);
CREATE TABLE pj_money_delta_sums (
    bucket        int NOT NULL,
    month         date NOT NULL,
    kind          text NOT NULL,
    source        text NOT NULL,
    year          int NOT NULL,
    requested_vnd bigint NOT NULL,
    approved_vnd  bigint NOT NULL,
    disbursed_vnd bigint NOT NULL,
    PRIMARY KEY (bucket, month, kind, source, year)
);

-- The sums of the buckets not yet closed, per month, report dimension, kind and stage, kept
-- with each batch: closing a bucket adds them to the previous bucket's sums.
CREATE TABLE pj_group_open_sums (LIKE pj_group_delta_sums INCLUDING ALL);
CREATE TABLE pj_money_open_sums (LIKE pj_money_delta_sums INCLUDING ALL);

-- +goose Down
DROP TABLE pj_money_open_sums;
DROP TABLE pj_group_open_sums;
DROP TABLE pj_money_delta_sums;
DROP TABLE pj_group_delta_sums;
DROP TABLE pj_delta_buckets;
DROP TABLE pj_money_deltas;
DROP TABLE pj_group_deltas;
