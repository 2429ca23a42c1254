-- A bucket of recording time closes from pj_group_all_sums, not from the open bucket's own sums.
--
-- The sums a closed bucket keeps (pj_group_delta_sums, pj_money_delta_sums) are the month sums
-- of every row recorded up to its end, per report dimension. While the bucket is open, that is
-- every row recorded so far: exactly the month rows (span 'month') of pj_group_all_sums and
-- pj_money_all_sums, which every live batch keeps current anyway. So the batch that closes a
-- bucket copies those ~2,000 month rows (less what the same batch recorded after the cut, which
-- it knows), and the open bucket's own sums, kept per group and month by every batch only to be
-- summed into the three dimensions at the close (the close read and sorted 5,000-18,000 rows of
-- a bloated table inside the batch: 130-400 ms, once 1 s, the stall that decided the lag's p99;
-- BENCHMARKS.md "Lag, stop 22"), are no longer kept: one upsert a batch less, and a close of a
-- few milliseconds.

-- +goose Up
DROP TABLE pj_group_open_sums;
DROP TABLE pj_money_open_sums;

-- +goose Down
CREATE TABLE pj_money_open_sums (LIKE pj_money_delta_sums INCLUDING ALL);
INSERT INTO pj_money_open_sums
SELECT s.* FROM (
    SELECT b.bucket, date_trunc('month', d.day)::date AS month, d.kind, d.source, d.year,
           sum(d.requested_vnd)::bigint AS requested_vnd, sum(d.approved_vnd)::bigint AS approved_vnd,
           sum(d.disbursed_vnd)::bigint AS disbursed_vnd
    FROM (SELECT bucket, starts_at FROM pj_delta_buckets ORDER BY bucket DESC LIMIT 1) b
    JOIN pj_money_deltas d ON d.recorded_at >= b.starts_at
    GROUP BY b.bucket, 2, d.kind, d.source, d.year
) s
WHERE NOT (s.requested_vnd = 0 AND s.approved_vnd = 0 AND s.disbursed_vnd = 0);
CREATE TABLE pj_group_open_sums (
    bucket          int NOT NULL,
    month           date NOT NULL,
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
    PRIMARY KEY (bucket, month, kind, unit_code, pillar, sector, stage)
) WITH (fillfactor = 70);
INSERT INTO pj_group_open_sums
SELECT s.bucket, s.month, s.kind, s.unit_code, s.pillar, s.sector, s.stage, s.items, s.distinct_models, s.with_gap,
       s.overdue, s.estimated_vnd, s.requested_vnd, s.approved_vnd, s.disbursed_vnd, s.gap_vnd, s.progress
FROM (
    SELECT b.bucket, date_trunc('month', d.day)::date AS month, d.kind, d.unit_code, d.pillar, d.sector, d.stage,
           sum(d.items)::bigint AS items, sum(d.distinct_models)::bigint AS distinct_models,
           sum(d.with_gap)::bigint AS with_gap, sum(d.overdue)::bigint AS overdue,
           sum(d.estimated_vnd)::bigint AS estimated_vnd, sum(d.requested_vnd)::bigint AS requested_vnd,
           sum(d.approved_vnd)::bigint AS approved_vnd, sum(d.disbursed_vnd)::bigint AS disbursed_vnd,
           sum(d.gap_vnd)::bigint AS gap_vnd, sum(d.progress)::bigint AS progress
    FROM (SELECT bucket, starts_at FROM pj_delta_buckets ORDER BY bucket DESC LIMIT 1) b
    JOIN pj_group_deltas d ON d.recorded_at >= b.starts_at
    GROUP BY b.bucket, 2, d.kind, d.unit_code, d.pillar, d.sector, d.stage
) s
WHERE NOT (s.items = 0 AND s.distinct_models = 0 AND s.with_gap = 0 AND s.overdue = 0 AND s.estimated_vnd = 0
    AND s.requested_vnd = 0 AND s.approved_vnd = 0 AND s.disbursed_vnd = 0 AND s.gap_vnd = 0 AND s.progress = 0);
