-- Reports as of a day, and today's overdue count, read the month rows of one report dimension
-- of pj_group_all_sums (dim, span 'month', the months before the day's): ~3,000 rows by unit
-- on a store of 10,000,000 events. A rebuild wrote the rows in the order its sums first met
-- their keys, so those rows lay on 1,434 pages (of the table's ~7,500), and a connection's
-- first read of a page costs a minor page fault of the shared buffers: the first such report
-- on a connection took 80 ms, the next ones 2-3 ms (EXPLAIN (ANALYZE, BUFFERS), the same
-- 1,434 buffers hit both times). Rewritten in the primary key's order they take ~100 pages;
-- a rebuild now writes them in that order too (rebuildsums.go), and live batches change the
-- rows of this month and today in place (fillfactor 70), leaving past months where they are.

-- +goose Up
CLUSTER pj_group_all_sums USING pj_group_all_sums_pkey;
CLUSTER pj_money_all_sums USING pj_money_all_sums_pkey;
ANALYZE pj_group_all_sums;
ANALYZE pj_money_all_sums;

-- +goose Down
ALTER TABLE pj_group_all_sums SET WITHOUT CLUSTER;
ALTER TABLE pj_money_all_sums SET WITHOUT CLUSTER;
