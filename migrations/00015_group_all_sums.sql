-- Reports "as of" a day alone (no known_at: everything recorded) without reading every delta
-- row of the day's month.
--
-- A report as of D as known now is the sum of every row of pj_group_deltas dated on or before D,
-- whatever its recorded_at. These tables keep those sums, per report dimension (dim: unit,
-- pillar or sector; key: its value), kind and stage: span 'month' sums a month's rows (day is
-- the first of the month), span 'day' a single day's. A report as of D reads the month rows
-- before D's month and the day rows of D's month up to D: a few thousand rows instead of every
-- delta row of the month. The items projection adds each batch's deltas; a rebuild writes the
-- sums of all deltas at once. Rows that sum to zero are not kept (the batch's upsert returns
-- their keys), so a rebuild writes the same rows as the live projection.
--
-- Every live batch updates the rows of today and of this month again: no index names a figure
-- (a partial index on the zero rows made every update a non-HOT one: lag p50 rose from 11 to
-- 43-64 ms in 20 s) and the pages keep room for the new versions (fillfactor).

-- +goose Up
CREATE TABLE pj_group_all_sums (
    dim             text NOT NULL,
    span            text NOT NULL,
    day             date NOT NULL,
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
    PRIMARY KEY (dim, span, day, kind, key, stage)
) WITH (fillfactor = 70);

-- Money by funding source and year, of items that are not cancelled: pj_money_deltas summed.
CREATE TABLE pj_money_all_sums (
    span          text NOT NULL,
    day           date NOT NULL,
    kind          text NOT NULL,
    source        text NOT NULL,
    year          int NOT NULL,
    requested_vnd bigint NOT NULL,
    approved_vnd  bigint NOT NULL,
    disbursed_vnd bigint NOT NULL,
    PRIMARY KEY (span, day, kind, source, year)
) WITH (fillfactor = 70);

-- +goose Down
DROP TABLE pj_money_all_sums;
DROP TABLE pj_group_all_sums;
