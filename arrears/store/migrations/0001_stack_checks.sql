-- End-to-end checks of the stack: a workflow on Temporal runs an activity that writes
-- one row here through the worker's pool. `arrears run` and the integration tests use it
-- to prove the whole path (server -> worker -> activity -> PostgreSQL) works.
CREATE TABLE stack_checks (
    check_id    text PRIMARY KEY,
    workflow_id text NOT NULL,
    run_id      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
