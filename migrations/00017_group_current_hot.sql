-- Today's group rows (pj_group_current, pj_group_open_end) are updated by nearly every live
-- batch, the same few hundred rows again and again. The partial indexes of migration 00014
-- (rows with items = 0) name a figure, so every one of those updates was a non-HOT one: a new
-- entry in every index of the table per row per batch, and a primary key that grew with dead
-- entries that each later lookup stepped over (pg_stat_user_tables: 0 HOT updates of ~1 per
-- event; 250 µs of PostgreSQL time per row at load 17). The projection now deletes the rows
-- a batch brings to zero by their keys (those whose count the batch lowers), so the indexes
-- go, and the pages keep room for new versions of their rows (fillfactor: pages written from
-- now on; a rebuild writes every page anew).

-- +goose Up
DROP INDEX pj_group_current_empty;
DROP INDEX pj_group_open_end_empty;
ALTER TABLE pj_group_current SET (fillfactor = 70);
ALTER TABLE pj_group_open_end SET (fillfactor = 70);
ALTER TABLE pj_group_money SET (fillfactor = 70);

-- +goose Down
ALTER TABLE pj_group_money RESET (fillfactor);
ALTER TABLE pj_group_open_end RESET (fillfactor);
ALTER TABLE pj_group_current RESET (fillfactor);
CREATE INDEX pj_group_current_empty ON pj_group_current (kind) WHERE items = 0;
CREATE INDEX pj_group_open_end_empty ON pj_group_open_end (kind) WHERE items = 0;
