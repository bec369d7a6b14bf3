-- Database roles, and the record of every purge of personal data (issue 6).
--
-- Three NOLOGIN group roles. A person or a service logs in with a role of its own that
-- is a member of one of them (CREATE ROLE worker LOGIN ... IN ROLE arrears_app).
-- Roles belong to the whole cluster while migrations run per database, so a role is
-- created only when missing (another database of the cluster, or the DBA, may have made
-- it already); the grants below are on this database's tables only.
--
--   arrears_app      workers, import, override, payments, status: appends events and
--                    rewrites the read models (projections); never changes an event.
--   arrears_auditor  reads everything except the personal data itself; writes nothing.
--   arrears_purger   `arrears purge`: blanks placement_records.personal and records the
--                    purge; cannot read personal data, cannot touch events or money.
DO $$
DECLARE
    role_name text;
BEGIN
    FOREACH role_name IN ARRAY ARRAY['arrears_app', 'arrears_auditor', 'arrears_purger'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by a migration of another database
            END;
        END IF;
    END LOOP;
END $$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO arrears_app, arrears_auditor, arrears_purger',
                   current_schema());
END $$;

-- One refusal for every append-only table, naming the table (case_events' message is
-- unchanged: "case_events is append-only: UPDATE refused").
CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- Each `arrears purge --apply`, even one that found nothing to purge. Append-only.
CREATE TABLE purges (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_at           timestamptz NOT NULL DEFAULT now(),
    before_date      date        NOT NULL,  -- --before
    closed_before    date        NOT NULL,  -- cases closed before this day (bank time)
    retention_years  integer     NOT NULL CHECK (retention_years >= 1),
    policy           text        NOT NULL,
    cases_purged     integer     NOT NULL CHECK (cases_purged = cardinality(case_ids)),
    case_ids         text[]      NOT NULL,
    actor            text,                  -- --actor: an id, never a name
    db_user          text        NOT NULL DEFAULT session_user
);

CREATE TRIGGER purges_append_only
    BEFORE UPDATE OR DELETE ON purges
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER purges_no_truncate
    BEFORE TRUNCATE ON purges
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Whether a record still holds personal data, readable without reading the data.
ALTER TABLE placement_records
    ADD COLUMN has_personal boolean GENERATED ALWAYS AS (personal IS NOT NULL) STORED;

-- arrears_app
GRANT SELECT, INSERT ON case_events TO arrears_app;
GRANT SELECT, INSERT, UPDATE
    ON cases, contact_attempts, placements, commissions, overrides, payments,
       placement_records
    TO arrears_app;
GRANT SELECT, INSERT ON stack_checks TO arrears_app;
GRANT SELECT ON schema_migrations TO arrears_app;  -- `import` checks the schema is current

-- arrears_auditor
GRANT SELECT
    ON case_events, cases, contact_attempts, placements, commissions, overrides, payments,
       stack_checks, purges, schema_migrations
    TO arrears_auditor;
GRANT SELECT (case_id, account_id, facts, source_file, source_line, imported_at, purged_at,
              has_personal)
    ON placement_records TO arrears_auditor;

-- arrears_purger
GRANT SELECT ON cases, case_events, purges TO arrears_purger;
GRANT SELECT (case_id, has_personal, purged_at) ON placement_records TO arrears_purger;
GRANT UPDATE (personal, purged_at) ON placement_records TO arrears_purger;
GRANT INSERT ON purges TO arrears_purger;
