-- pj_group_open_end (migration 00011: open items per full group and month of planned end) was
-- read only by today's overdue count, which since stop 22 sums the overdue figure of
-- pj_group_all_sums instead (projections/reports.go, queueCurrent). The items projection still
-- wrote it in every batch that moved an item in or out of the open stages (one upsert per
-- changed group and month: in a 20 s lag run, ~6 buffers and ~2.8 WAL records an event) and the
-- rebuild copied it. Nothing reads it any more: it goes. The Down migration rebuilds it from
-- today's items (pj_item_current), which is what the projection kept.

-- +goose Up
DROP TABLE pj_group_open_end;

-- +goose Down
CREATE TABLE pj_group_open_end (
    kind      text NOT NULL,
    unit_code text NOT NULL,
    pillar    text NOT NULL,
    sector    text NOT NULL,
    stage     text NOT NULL,
    end_month date NOT NULL,
    items     bigint NOT NULL,
    PRIMARY KEY (kind, unit_code, pillar, sector, stage, end_month)
) WITH (fillfactor = 70);
INSERT INTO pj_group_open_end (kind, unit_code, pillar, sector, stage, end_month, items)
SELECT kind, unit_code, pillar, sector, stage, date_trunc('month', end_date)::date, count(*)
FROM pj_item_current
WHERE stage NOT IN ('implemented', 'evaluated', 'cancelled') AND stage <> '' AND end_date IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6;
