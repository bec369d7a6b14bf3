-- The case event store: every decided event of every case, in order, hash-chained.
-- Append-only: UPDATE, DELETE and TRUNCATE are refused for everyone (a purge of personal
-- data never touches this table: events carry no personal data).
CREATE TABLE case_events (
    case_id     text        NOT NULL,
    seq         integer     NOT NULL CHECK (seq >= 1),
    type        text        NOT NULL,
    at          timestamptz NOT NULL,
    payload     jsonb       NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_type ON case_events (type);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER case_events_append_only
    BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER case_events_no_truncate
    BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- Read models, maintained from the events in the same transaction as the append.
CREATE TABLE cases (
    case_id       text PRIMARY KEY,
    account_id    text        NOT NULL,
    policy        text        NOT NULL,
    stage         text        NOT NULL,
    bucket        text        NOT NULL,
    dpd           integer     NOT NULL,
    principal     numeric(18, 2) NOT NULL,
    interest      numeric(18, 2) NOT NULL,
    fees          numeric(18, 2) NOT NULL,
    balance       numeric(18, 2) NOT NULL,
    agency        text,
    hand          text,
    holds         text[]      NOT NULL DEFAULT '{}',
    charged_off   boolean     NOT NULL DEFAULT false,
    outcome       text,
    last_seq      integer     NOT NULL,
    opened_at     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX cases_stage_bucket ON cases (stage, bucket);

CREATE TABLE contact_attempts (
    case_id        text        NOT NULL,
    seq            integer     NOT NULL,
    channel        text        NOT NULL,
    target         text        NOT NULL,
    line           text,
    contact_index  integer,
    outcome        text        NOT NULL,
    planned_at     timestamptz NOT NULL,
    attempted_at   timestamptz NOT NULL,
    collector_ids  text[]      NOT NULL DEFAULT '{}',
    recording_ref  text,
    provider_ref   text,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX contact_attempts_channel ON contact_attempts (channel);

CREATE TABLE placements (
    case_id          text        NOT NULL,
    seq              integer     NOT NULL,
    agency           text        NOT NULL,
    hand             text        NOT NULL,
    commission_rate  numeric(5, 4) NOT NULL,
    placed_at        timestamptz NOT NULL,
    term_ends        timestamptz NOT NULL,
    recalled_at      timestamptz,
    recall_reason    text,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE commissions (
    case_id            text        NOT NULL,
    seq                integer     NOT NULL,
    agency             text        NOT NULL,
    hand               text        NOT NULL,
    rate               numeric(5, 4) NOT NULL,
    payment_reference  text        NOT NULL,
    amount             numeric(18, 2) NOT NULL,
    earned_at          timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE overrides (
    case_id    text        NOT NULL,
    seq        integer     NOT NULL,
    kind       text        NOT NULL,
    actor_id   text        NOT NULL,
    role       text        NOT NULL,
    reason     text        NOT NULL,
    args       jsonb       NOT NULL,
    applied    boolean     NOT NULL,
    message    text,
    at         timestamptz NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE TABLE payments (
    case_id      text        NOT NULL,
    seq          integer     NOT NULL,
    reference    text        NOT NULL,
    amount       numeric(18, 2) NOT NULL,
    to_fees      numeric(18, 2) NOT NULL,
    to_interest  numeric(18, 2) NOT NULL,
    to_principal numeric(18, 2) NOT NULL,
    unapplied    numeric(18, 2) NOT NULL,
    paid_on      date        NOT NULL,
    PRIMARY KEY (case_id, seq),
    UNIQUE (case_id, reference)
);
