-- Delinquency episodes (issue 12, re-default): an account that was cured and defaults
-- again is a new case, with its own identity. An account keeps one placement record per
-- episode: episode 1 is `case-<account_id>` (as before), episode n > 1 is
-- `case-<account_id>.<n>` ('.' never occurs in an account id, so ids cannot collide).
ALTER TABLE placement_records ADD COLUMN episode integer NOT NULL DEFAULT 1 CHECK (episode >= 1);
ALTER TABLE placement_records DROP CONSTRAINT placement_records_account_id_key;
ALTER TABLE placement_records ADD CONSTRAINT placement_records_account_episode
    UNIQUE (account_id, episode);

GRANT SELECT (episode) ON placement_records TO arrears_auditor;
