-- The live items projection drops a group row once every item has left it (items = 0), after
-- each batch. Without an index that was a scan of the whole table per batch — 34,000 rows of
-- pj_group_open_end on a store of 1,000,000 events, ~4-9 ms of every batch's ~15 ms. These
-- partial indexes hold only the rows about to go, so they stay (nearly) empty.

-- +goose Up
CREATE INDEX pj_group_current_empty ON pj_group_current (kind) WHERE items = 0;
CREATE INDEX pj_group_open_end_empty ON pj_group_open_end (kind) WHERE items = 0;

-- +goose Down
DROP INDEX pj_group_open_end_empty;
DROP INDEX pj_group_current_empty;
