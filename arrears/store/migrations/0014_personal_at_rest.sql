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
    ADD COLUMN phone_suffixes  bytea[];               -- HMAC of each suffix >= 6 digits
CREATE INDEX placement_records_phone_hashes ON placement_records USING gin (phone_hashes);
CREATE INDEX placement_records_phone_suffixes ON placement_records USING gin (phone_suffixes);

-- Next step (same migration, before merge): once the importer, console, search and purge
-- go through arrears.crypto.vault and `arrears keys encrypt-existing` has converted old
-- rows, drop the plaintext: DROP INDEX of the three 0010 digit indexes and
-- ALTER TABLE placement_records DROP COLUMN personal.
