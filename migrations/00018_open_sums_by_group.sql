-- The open bucket's own sums (pj_group_open_sums, migration 00012) were kept per report
-- dimension: every group delta a live batch wrote was added to three rows (its unit's, its
-- pillar's and its sector's), ~5 row updates per event, ~12% of the projection's statement
-- time, for a table that no report reads: it is only summed into pj_group_delta_sums when its
-- bucket closes. It is now kept per group (kind, unit, pillar, sector, stage) and month: one
-- row per group delta, turned into the three dimensions when the bucket closes (a few thousand
-- rows grouped once per 16,384 facts). The rows of the open bucket are summed again from the
-- group deltas recorded in it.

-- +goose Up
DROP TABLE pj_group_open_sums;
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

-- +goose Down
DROP TABLE pj_group_open_sums;
CREATE TABLE pj_group_open_sums (LIKE pj_group_delta_sums INCLUDING ALL);
INSERT INTO pj_group_open_sums
SELECT s.* FROM (
    SELECT b.bucket, x.dim, date_trunc('month', d.day)::date AS month, d.kind, x.key, d.stage,
           sum(d.items)::bigint AS items, sum(d.distinct_models)::bigint AS distinct_models,
           sum(d.with_gap)::bigint AS with_gap, sum(d.overdue)::bigint AS overdue,
           sum(d.estimated_vnd)::bigint AS estimated_vnd, sum(d.requested_vnd)::bigint AS requested_vnd,
           sum(d.approved_vnd)::bigint AS approved_vnd, sum(d.disbursed_vnd)::bigint AS disbursed_vnd,
           sum(d.gap_vnd)::bigint AS gap_vnd, sum(d.progress)::bigint AS progress
    FROM (SELECT bucket, starts_at FROM pj_delta_buckets ORDER BY bucket DESC LIMIT 1) b
    JOIN pj_group_deltas d ON d.recorded_at >= b.starts_at
    CROSS JOIN LATERAL (VALUES ('unit', d.unit_code), ('pillar', d.pillar), ('sector', d.sector)) AS x(dim, key)
    GROUP BY b.bucket, x.dim, 3, d.kind, x.key, d.stage
) s
WHERE NOT (s.items = 0 AND s.distinct_models = 0 AND s.with_gap = 0 AND s.overdue = 0 AND s.estimated_vnd = 0
    AND s.requested_vnd = 0 AND s.approved_vnd = 0 AND s.disbursed_vnd = 0 AND s.gap_vnd = 0 AND s.progress = 0);
