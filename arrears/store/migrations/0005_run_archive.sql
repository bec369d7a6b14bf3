-- The archive of workflow histories (issue 12): every closed run of every case workflow,
-- kept here because Temporal deletes a closed run's history after the namespace's
-- retention, while POLICY.md keeps records for 5 years.
--
-- One row per run (run_id is unique; a workflow id has many runs: continue-as-new and
-- short runs after the case closed). The history is Temporal's own JSON export format
-- (what `WorkflowHistory.to_json()` gives, what `arrears audit --history` reads), gzip
-- compressed; history_sha256 is the digest of the uncompressed JSON. The rows of one
-- workflow id are hash-chained in the order they were archived (`position`), like
-- case_events: removing or altering a row breaks every hash after it. Histories hold no
-- personal data (the case input carries account facts only; see AccountFacts).
-- Append-only: UPDATE, DELETE and TRUNCATE are refused for everyone.
CREATE TABLE run_archive (
    workflow_id     text        NOT NULL,
    position        integer     NOT NULL CHECK (position >= 1),
    run_id          text        NOT NULL UNIQUE,
    workflow_type   text        NOT NULL,
    started_at      timestamptz NOT NULL,
    closed_at       timestamptz NOT NULL,
    close_status    text        NOT NULL,  -- completed, continued_as_new, failed, ...
    history         bytea       NOT NULL,  -- gzip of the history's JSON
    history_sha256  text        NOT NULL,  -- sha256 of the uncompressed JSON
    prev_hash       text        NOT NULL,
    hash            text        NOT NULL,
    archived_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, position)
);
CREATE INDEX run_archive_closed_at ON run_archive (closed_at);

CREATE TRIGGER run_archive_append_only
    BEFORE UPDATE OR DELETE ON run_archive
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER run_archive_no_truncate
    BEFORE TRUNCATE ON run_archive
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- How far the archive sweep has read Temporal's visibility: the latest close time it has
-- archived everything up to. The next sweep lists runs closed since (minus an overlap, as
-- visibility is eventually consistent). Losing it only makes a sweep re-read more.
CREATE TABLE archive_watermark (
    name        text        PRIMARY KEY,
    closed_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON run_archive TO arrears_app;
GRANT SELECT, INSERT, UPDATE ON archive_watermark TO arrears_app;
GRANT SELECT ON run_archive, archive_watermark TO arrears_auditor;
-- arrears_purger: nothing (histories carry no personal data to purge).
