-- Indicators and the DTI (issue 15): every fact of an indicator's stream (indicator-<code>:
-- its definition and revisions, baselines, targets, actuals) and of a province's DTI stream
-- (dti-<province>: published results, self-assessments, gain links), one row per event, with
-- its business date and the moment the store recorded it. Reports select the rows of a day
-- "as of" and a moment "as known at" and fold them with domain/indicator's one fold; the rows
-- are few (a few hundred a year), so nothing is pre-aggregated. The data is the event as the
-- domain's codec re-encodes it, kept as text (JSON's escapes make any text storable).

-- +goose Up
CREATE TABLE pj_indicator_facts (
    stream_id   text NOT NULL,
    version     bigint NOT NULL,
    subject     text NOT NULL,
    event_type  text NOT NULL,
    on_date     date NOT NULL,
    recorded_at timestamptz NOT NULL,
    data        text NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX pj_indicator_facts_type ON pj_indicator_facts (event_type, on_date);

-- +goose Down
DROP TABLE pj_indicator_facts;
