-- Today's money by funding source and year, summed per kind and per whether the item is
-- cancelled (cancelled items are left out of funding gaps), kept by the items projection.

-- +goose Up
CREATE TABLE pj_group_money (
    kind          text NOT NULL,
    cancelled     boolean NOT NULL,
    source        text NOT NULL,
    year          int NOT NULL,
    requested_vnd bigint NOT NULL,
    approved_vnd  bigint NOT NULL,
    disbursed_vnd bigint NOT NULL,
    PRIMARY KEY (kind, cancelled, source, year)
);

-- +goose Down
DROP TABLE pj_group_money;
