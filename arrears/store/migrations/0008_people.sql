-- People and sign-in (issue 14): the console's users, their server-side sessions, the
-- sign-in throttle, and the log of who looked at a case's personal data.
--
-- A user's id is what overrides record as the actor (`s-2`), never a name; the display
-- name is for the screen only. Passwords are argon2id hashes (arrears.people.passwords).
-- A session's token is kept only as its sha256 (hex): reading this table, or a backup
-- of it, gives no session anyone can use; the cookie holds the token itself.
CREATE TABLE users (
    id             text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    display_name   text        NOT NULL,
    role           text        NOT NULL
                               CHECK (role IN ('collector', 'supervisor', 'manager', 'auditor')),
    active         boolean     NOT NULL DEFAULT true,
    password_hash  text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    locale         text        CHECK (locale IN ('en', 'zh_CN')),  -- NULL: the profile's
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE console_sessions (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256  text        NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    user_id       text        NOT NULL REFERENCES users (id),
    csrf_token    text        NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    ended_at      timestamptz,
    end_reason    text        CHECK (end_reason IN ('signed_out', 'idle', 'user_disabled',
                                                    'password_changed')),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE INDEX console_sessions_open_by_user ON console_sessions (user_id) WHERE ended_at IS NULL;

-- Failed sign-ins per key: `user:<id>` (existing users only) and `addr:<ip>`. A window
-- of failures opens at the first one; the 5th within 15 minutes sets locked_until
-- (arrears.people.throttle has the numbers). A success removes the user's row.
CREATE TABLE sign_in_throttle (
    key                text        PRIMARY KEY,
    failures           integer     NOT NULL CHECK (failures >= 0),
    window_started_at  timestamptz NOT NULL,
    locked_until       timestamptz
);

-- Each time a person is shown a case's personal data (debtor name, phones, addresses):
-- who, in which role, which case, when, and what (a word such as 'contact', never the
-- data itself). Append-only: UPDATE, DELETE and TRUNCATE are refused for everyone.
CREATE TABLE personal_data_views (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    text        NOT NULL REFERENCES users (id),
    role       text        NOT NULL,
    case_id    text        NOT NULL,
    viewed_at  timestamptz NOT NULL,
    what       text        NOT NULL
);
CREATE INDEX personal_data_views_by_time ON personal_data_views (viewed_at DESC, id DESC);
CREATE INDEX personal_data_views_by_case ON personal_data_views (case_id, viewed_at DESC);
CREATE INDEX personal_data_views_by_user ON personal_data_views (user_id, viewed_at DESC);

CREATE TRIGGER personal_data_views_append_only
    BEFORE UPDATE OR DELETE ON personal_data_views
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER personal_data_views_no_truncate
    BEFORE TRUNCATE ON personal_data_views
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- arrears_app: the console and the CLI manage users and sessions; the views log only grows.
GRANT SELECT, INSERT, UPDATE ON users, console_sessions TO arrears_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_throttle TO arrears_app;
GRANT SELECT, INSERT ON personal_data_views TO arrears_app;

-- arrears_auditor: everything but the password hashes and the session tokens.
GRANT SELECT (id, display_name, role, active, locale, created_at, updated_at)
    ON users TO arrears_auditor;
GRANT SELECT (id, user_id, created_at, last_seen_at, ended_at, end_reason)
    ON console_sessions TO arrears_auditor;
GRANT SELECT ON sign_in_throttle, personal_data_views TO arrears_auditor;
