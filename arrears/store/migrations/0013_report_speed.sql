-- Report speed (issue 15): the standing of a case at an instant, read from the index alone.
--
-- The reports that need a case's standing at a time (the book at the end of a period,
-- roll rates at every month end) want each case's snapshots in business-time order:
-- the primary key (case_id, last_seq) is in append order, so each lookup sorted a
-- case's snapshots and each pass over the book sorted all of them (4 million rows on a
-- 100,000-case year). This index gives them in (case_id, as_of, last_seq) order and
-- carries the columns those reports read, so PostgreSQL answers them by an index-only
-- scan: one descent per case for the book, one ordered pass with no sort for the roll
-- rates. Snapshots are append-only, so the visibility map stays set between vacuums.
CREATE INDEX case_snapshots_standing ON case_snapshots (case_id, as_of, last_seq)
    INCLUDE (stage, bucket, outcome, principal, interest, fees);

-- Every report's scope keeps the cases opened under a policy and arm (a `case_opened`
-- payload's fields). Without statistics on those expressions the planner guesses one
-- case, and with `--policy` it probed the events case by case instead of hashing the
-- scope (about 2x slower on 20,000 cases, docs/REPORTS.md). ANALYZE fills these.
CREATE STATISTICS case_events_scope
    ON (payload->>'policy'), (coalesce(payload->>'arm', 'champion')) FROM case_events;
