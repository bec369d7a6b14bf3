-- Reports (issue 15): the case's standing after each append, kept as history.
--
-- `cases` holds one row per case, overwritten by each append, so it can say what the
-- book is now but not what it was at the end of March. Reports of a past period (the
-- book at a date, roll rates between month ends, the balance a case had when it was
-- placed) need the standing as of a business time: every time `EventStore.append`
-- writes the `cases` row it also appends one row here, in the same transaction
-- (arrears/store/read_models.py: project_case). Rows are never changed: a report of a
-- past period reads the same rows whenever it is run again.
--
-- `as_of` is the summary's business time (the workflow's clock when it decided the
-- events), never the insertion time. Holds no personal data: ids, stages, amounts.
CREATE TABLE case_snapshots (
    case_id      text           NOT NULL,
    last_seq     integer        NOT NULL CHECK (last_seq >= 1),
    as_of        timestamptz    NOT NULL,
    policy       text           NOT NULL,
    stage        text           NOT NULL,
    bucket       text           NOT NULL,
    dpd          integer        NOT NULL,
    principal    numeric(18, 2) NOT NULL,
    interest     numeric(18, 2) NOT NULL,
    fees         numeric(18, 2) NOT NULL,
    charged_off  boolean        NOT NULL,
    outcome      text,
    PRIMARY KEY (case_id, last_seq)
);

CREATE TRIGGER case_snapshots_append_only
    BEFORE UPDATE OR DELETE ON case_snapshots
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER case_snapshots_no_truncate
    BEFORE TRUNCATE ON case_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- A book that existed before this migration: its cases' standing now, as of their last
-- update (the history before it is not known; reports of earlier periods see only the
-- events for those cases).
INSERT INTO case_snapshots (case_id, last_seq, as_of, policy, stage, bucket, dpd, principal,
                            interest, fees, charged_off, outcome)
SELECT case_id, last_seq, updated_at, policy, stage, bucket, dpd, principal, interest, fees,
       charged_off, outcome
FROM cases;

-- The month-end standing of every case: the latest snapshot before a time, per case.
CREATE INDEX case_snapshots_as_of ON case_snapshots (as_of);
-- The reports filter events by type and business time (payments of a period, buckets
-- entered in a period ...): without it each reads every event of its types.
CREATE INDEX case_events_type_at ON case_events (type, at);

GRANT SELECT, INSERT ON case_snapshots TO arrears_app;
GRANT SELECT ON case_snapshots TO arrears_auditor;
