-- Personal data encrypted at rest (issue 16, arrears/crypto). Each case's personal data
-- is sealed with its own random data key (AES-256-GCM, case id as associated data); the
-- data key is kept here wrapped by a master key that never enters the database. Purging a
-- case deletes its data key (crypto-shredding): a backup of `personal_sealed` taken
-- before then no longer opens. The row with case_id ':lookup' holds the key of the phone
-- lookup hashes, wrapped like a data key so master key rotation leaves the hashes valid.
CREATE TABLE case_keys (
    case_id     text PRIMARY KEY,
    master_id   text        NOT NULL,   -- id of the master key that wrapped it
    wrapped     bytea       NOT NULL,   -- nonce || AES-256-GCM(data key)
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_keys_master_id ON case_keys (master_id);

ALTER TABLE placement_records
    ADD COLUMN personal_sealed bytea,                 -- nonce || AES-256-GCM(JSON)
    ADD COLUMN phone_hashes    bytea[],               -- HMAC of each phone's digits
    ADD COLUMN phone_suffixes  bytea[],               -- HMAC of each suffix >= 6 digits
    ADD COLUMN name_hash       bytea;                 -- HMAC of the normalised full name
CREATE INDEX placement_records_phone_hashes ON placement_records USING gin (phone_hashes);
CREATE INDEX placement_records_phone_suffixes ON placement_records USING gin (phone_suffixes);
CREATE INDEX placement_records_name_hash ON placement_records (name_hash)
    WHERE name_hash IS NOT NULL;

-- No new plaintext: a row inserted or updated from now on has `personal` NULL. NOT VALID,
-- so the rows written before this migration stay until `arrears keys encrypt-existing`
-- (arrears/crypto/existing.py; `arrears up` runs it) seals each and clears its
-- `personal` in the same UPDATE. The import and the console refuse to start while any
-- is left, so nothing ever reads `personal` again. The column itself is dropped by a
-- later migration, once every database has been converted (a migration cannot encrypt:
-- the master key never enters the database).
ALTER TABLE placement_records
    ADD CONSTRAINT placement_records_no_plaintext CHECK (personal IS NULL) NOT VALID;
-- Finds what is left to convert without reading the table (empty once converted).
CREATE INDEX placement_records_plaintext ON placement_records (case_id)
    WHERE personal IS NOT NULL;

-- The 0010 phone search indexes held the digits in clear: search uses the hashes now.
DROP INDEX placement_records_mobile_digits;
DROP INDEX placement_records_home_phone_digits;
DROP INDEX placement_records_work_phone_digits;

-- Whether a record holds personal data, sealed or (until converted) plaintext. A
-- generated column's expression cannot be changed before PostgreSQL 17: dropped and
-- added again, with its column grants (0004).
ALTER TABLE placement_records DROP COLUMN has_personal;
ALTER TABLE placement_records ADD COLUMN has_personal boolean
    GENERATED ALWAYS AS (personal IS NOT NULL OR personal_sealed IS NOT NULL) STORED;
GRANT SELECT (has_personal) ON placement_records TO arrears_auditor, arrears_purger;

-- arrears_app writes sealed records and their keys (import), reads them (console,
-- contact activity). The auditor sees neither the sealed columns nor the keys.
GRANT SELECT, INSERT, UPDATE ON case_keys TO arrears_app;
-- arrears_purger crypto-shreds: it clears the sealed columns and deletes the data keys,
-- and still cannot read either (DELETE ... WHERE case_id needs SELECT on case_id only).
GRANT UPDATE (personal_sealed, phone_hashes, phone_suffixes, name_hash)
    ON placement_records TO arrears_purger;
GRANT SELECT (case_id), DELETE ON case_keys TO arrears_purger;
