-- Results of `arrears audit --on-workers` (issue 12): the AuditBook workflow lists the
-- cases of one audit here, its activities (on any worker) write each case's verdict and
-- findings, and the CLI reads them back to print the summary. One row per case and
-- audit; `verdict` is NULL until the case has been audited. Findings carry no personal
-- data (seqs, event types, amounts, failure messages of the store).
CREATE TABLE audit_results (
    audit_id    text        NOT NULL,
    case_id     text        NOT NULL,
    verdict     text        CHECK (verdict IN ('verified', 'in_flight', 'problems')),
    findings    jsonb       NOT NULL DEFAULT '[]',
    listed_at   timestamptz NOT NULL DEFAULT now(),
    audited_at  timestamptz,
    PRIMARY KEY (audit_id, case_id)
);

GRANT SELECT, INSERT, UPDATE ON audit_results TO arrears_app;  -- the workers write them
GRANT SELECT ON audit_results TO arrears_auditor;
