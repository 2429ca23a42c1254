-- What the deadline process manager needs to find the items that may be due without folding
-- anything: when money first came, the last progress report, and the flags already raised.

-- +goose Up
ALTER TABLE pj_item_facts DROP CONSTRAINT pj_item_facts_fact_check;
ALTER TABLE pj_item_facts ADD CONSTRAINT pj_item_facts_fact_check
    CHECK (fact IN ('requested', 'approved', 'disbursed', 'stage', 'progress', 'same_as', 'flagged', 'overdue'));
ALTER TABLE pj_item_current
    ADD COLUMN first_funded_on date,
    ADD COLUMN last_progress_on date,
    ADD COLUMN flagged_on date,
    ADD COLUMN overdue_since date;

-- +goose Down
ALTER TABLE pj_item_current DROP COLUMN first_funded_on, DROP COLUMN last_progress_on,
    DROP COLUMN flagged_on, DROP COLUMN overdue_since;
DELETE FROM pj_item_facts WHERE fact IN ('flagged', 'overdue');
ALTER TABLE pj_item_facts DROP CONSTRAINT pj_item_facts_fact_check;
ALTER TABLE pj_item_facts ADD CONSTRAINT pj_item_facts_fact_check
    CHECK (fact IN ('requested', 'approved', 'disbursed', 'stage', 'progress', 'same_as'));
