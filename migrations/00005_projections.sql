-- Read models for the steering committee's reports (projections/). Each projection keeps its
-- checkpoint in projection_checkpoints, written in the same transaction as its rows.
-- Every fact row carries its business date (occurred_on) and when the store recorded it
-- (recorded_at): a report "as of" a day and "as known at" a moment filters on both.

-- +goose Up
CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    tx_id      xid8 NOT NULL DEFAULT '0',
    seq        bigint NOT NULL DEFAULT 0,
    events     bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per model or project: what it was proposed as. These never change after the proposal.
CREATE TABLE pj_items (
    item_id       text PRIMARY KEY,
    kind          text NOT NULL,
    title         text NOT NULL,
    unit_code     text NOT NULL,
    pillar        text NOT NULL,
    sector        text NOT NULL,
    scope         text NOT NULL DEFAULT '',
    model_id      text NOT NULL DEFAULT '',
    estimated_vnd bigint NOT NULL,
    start_date    date,
    end_date      date,
    proposed_on   date NOT NULL,
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX pj_items_kind ON pj_items (kind, proposed_on);

-- One row per event of an item that a report counts: money (requested / approved / disbursed,
-- by source and year), stage changes, progress and same-as markings.
CREATE TABLE pj_item_facts (
    item_id     text NOT NULL,
    version     bigint NOT NULL,
    fact        text NOT NULL CHECK (fact IN ('requested', 'approved', 'disbursed', 'stage', 'progress', 'same_as')),
    occurred_on date NOT NULL,
    recorded_at timestamptz NOT NULL,
    source      text NOT NULL DEFAULT '',
    year        int NOT NULL DEFAULT 0,
    amount      bigint NOT NULL DEFAULT 0,
    stage       text NOT NULL DEFAULT '',
    percent     int NOT NULL DEFAULT 0,
    ref         text NOT NULL DEFAULT '',
    PRIMARY KEY (item_id, version)
);

-- Units and their successions.
CREATE TABLE pj_units (
    code          text PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL,
    parent_code   text NOT NULL DEFAULT '',
    registered_on date NOT NULL,
    recorded_at   timestamptz NOT NULL
);
CREATE TABLE pj_unit_merges (
    code           text PRIMARY KEY,
    into_code      text NOT NULL,
    effective_date date NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- +goose Down
DROP TABLE pj_unit_merges;
DROP TABLE pj_units;
DROP TABLE pj_item_facts;
DROP TABLE pj_items;
DROP TABLE projection_checkpoints;
