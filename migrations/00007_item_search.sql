-- Item lists: the title folded for search (tone marks and case ignored, projections.Fold),
-- and the current stage per kind for filtering.

-- +goose Up
ALTER TABLE pj_items ADD COLUMN title_folded text NOT NULL DEFAULT '';
CREATE INDEX pj_items_list ON pj_items (kind, item_id DESC);

-- +goose Down
DROP INDEX pj_items_list;
ALTER TABLE pj_items DROP COLUMN title_folded;
