-- Each item as it stands now, kept by the items projection beside its effective-dated facts:
-- the reports of "today, as known now" — the dashboard's common case — aggregate these rows
-- instead of folding every fact. Money per (source, year) for the report grouped that way.

-- +goose Up
CREATE TABLE pj_item_current (
    item_id       text PRIMARY KEY,
    kind          text NOT NULL,
    unit_code     text NOT NULL,
    pillar        text NOT NULL,
    sector        text NOT NULL,
    estimated_vnd bigint NOT NULL,
    end_date      date,
    requested_vnd bigint NOT NULL DEFAULT 0,
    approved_vnd  bigint NOT NULL DEFAULT 0,
    disbursed_vnd bigint NOT NULL DEFAULT 0,
    stage         text NOT NULL,
    progress      int NOT NULL DEFAULT 0,
    same_as       text NOT NULL DEFAULT ''
);
CREATE TABLE pj_item_current_money (
    item_id       text NOT NULL,
    source        text NOT NULL,
    year          int NOT NULL,
    requested_vnd bigint NOT NULL DEFAULT 0,
    approved_vnd  bigint NOT NULL DEFAULT 0,
    disbursed_vnd bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (item_id, source, year)
);

-- +goose Down
DROP TABLE pj_item_current_money;
DROP TABLE pj_item_current;
