-- The placement rows as the bank sent them: the one place personal data is kept
-- (names, ids, phones, addresses, contacts). Workflows, events and logs refer to a
-- case by its id only. `arrears purge` (issue 6) blanks `personal` after retention.
CREATE TABLE placement_records (
    case_id       text PRIMARY KEY,
    account_id    text        NOT NULL UNIQUE,
    personal      jsonb,                  -- the personal columns of the row
    facts         jsonb       NOT NULL,   -- everything else (balances, dates, flags)
    source_file   text        NOT NULL,   -- sha256 of the file it came from
    source_line   integer     NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now(),
    purged_at     timestamptz
);
