-- The console's read side (issue 14): what the worklists and the Book need that the
-- `cases` row does not say, maintained from the events in the same transaction as the
-- append (arrears/store/worklist_model.py), and backfilled below from case_events so
-- a book that existed before this migration gets its worklists too.
--
-- One row per case. Each column is the latest fact of its kind; a column is NULL when
-- there is nothing of that kind now (no open promise, no plan, not placed ...).
-- Holds no personal data: ids, stages, amounts, dates.
CREATE TABLE case_worklist (
    case_id                  text PRIMARY KEY,
    policy                   text        NOT NULL,
    opened_at                timestamptz NOT NULL,  -- case_opened's time (not insertion)
    stage                    text        NOT NULL DEFAULT 'reminder',  -- from stage_changed
    -- The open promise to pay (promise_made, until it is kept or broken).
    promise_amount           numeric(18, 2),
    promise_due              date,
    -- The last broken promise, until a new promise or a plan is agreed.
    promise_broken_at        timestamptz,
    promise_broken_amount    numeric(18, 2),
    -- The running installment plan (plan_agreed, until broken or completed).
    plan_installments        integer,
    plan_installment_amount  numeric(18, 2),
    plan_first_due           date,
    plan_installments_paid   integer,
    plan_next_due            date,      -- first_due + paid months, clipped to month end
    -- The last broken plan (a missed installment), until a new promise or plan.
    plan_missed_at           timestamptz,
    plan_missed_number       integer,
    dispute_open             boolean     NOT NULL DEFAULT false,
    cease_contact            boolean     NOT NULL DEFAULT false,
    -- Last right-party contact: an attempt on the debtor whose outcome is a conversation
    -- with them (domain.contact.is_right_party: right_party_contact, promise, refusal,
    -- dispute).
    last_rpc_at              timestamptz,
    -- The current placement (placed, until recalled).
    agency                   text,
    term_ends                timestamptz,
    legal_referred_at        timestamptz,
    closed_at                timestamptz,
    outcome                  text
);

-- Every worklist picks its few cases by one of these, and the Book's daily series by the
-- event times; each is partial where most cases have nothing.
CREATE INDEX case_worklist_promise_due ON case_worklist (promise_due)
    WHERE promise_due IS NOT NULL;
CREATE INDEX case_worklist_promise_broken ON case_worklist (promise_broken_at)
    WHERE promise_broken_at IS NOT NULL;
CREATE INDEX case_worklist_plan_missed ON case_worklist (plan_missed_at)
    WHERE plan_missed_at IS NOT NULL;
CREATE INDEX case_worklist_dispute ON case_worklist (case_id) WHERE dispute_open;
CREATE INDEX case_worklist_cease ON case_worklist (case_id) WHERE cease_contact;
CREATE INDEX case_worklist_term_ends ON case_worklist (term_ends) WHERE term_ends IS NOT NULL;
CREATE INDEX case_worklist_last_rpc ON case_worklist (last_rpc_at);
CREATE INDEX case_worklist_opened ON case_worklist (opened_at);
CREATE INDEX case_worklist_closed ON case_worklist (closed_at) WHERE closed_at IS NOT NULL;

CREATE INDEX cases_open ON cases (stage, bucket) WHERE outcome IS NULL;
CREATE INDEX contact_attempts_attempted ON contact_attempts (attempted_at);
CREATE INDEX overrides_at ON overrides (at);
CREATE INDEX overrides_actor ON overrides (actor_id, at);

-- Where a payment came in: the case's stage and agency at that moment, for "amount
-- recovered by stage and by agency" (the stage that earned it, not today's).
ALTER TABLE payments ADD COLUMN stage text, ADD COLUMN agency text;
CREATE INDEX payments_paid_on ON payments (paid_on);

-- Backfill: the latest event of each kind per case, pivoted into one row.
WITH latest AS (
    SELECT DISTINCT ON (case_id, kind) case_id, kind, seq, type, at, payload
    FROM case_events
    -- A broken promise (plan) is both the latest promise (plan) event and, on its own,
    -- the latest breach, so it is counted under two kinds.
    CROSS JOIN LATERAL unnest(CASE
        WHEN type = 'promise_broken' THEN ARRAY['promise', 'promise_broken']
        WHEN type IN ('promise_made', 'promise_kept') THEN ARRAY['promise']
        WHEN type = 'plan_broken' THEN ARRAY['plan', 'plan_broken']
        WHEN type IN ('plan_agreed', 'plan_completed') THEN ARRAY['plan']
        WHEN type IN ('hold_started', 'hold_ended') THEN ARRAY['hold_' || (payload->>'kind')]
        WHEN type IN ('placed', 'recalled') THEN ARRAY['placement']
        WHEN type = 'contact_attempted' THEN ARRAY['rpc']
        ELSE ARRAY[type]
    END) AS kind
    WHERE type IN ('case_opened', 'stage_changed', 'promise_made', 'promise_kept',
                   'promise_broken', 'plan_agreed', 'plan_broken', 'plan_completed',
                   'hold_started', 'hold_ended', 'placed', 'recalled', 'legal_referred',
                   'case_closed')
       OR (type = 'contact_attempted' AND payload->>'target' = 'debtor'
           AND payload->>'outcome' IN ('right_party_contact', 'promise', 'refusal', 'dispute'))
    ORDER BY case_id, kind, seq DESC
),
-- The last promise or plan agreed (a broken one stays on its worklist until then).
agreed AS (
    SELECT case_id, max(seq) AS seq FROM case_events
    WHERE type IN ('promise_made', 'plan_agreed') GROUP BY case_id
),
paid AS (
    SELECT e.case_id, max((e.payload->>'number')::integer) AS number
    FROM case_events e JOIN latest p ON p.case_id = e.case_id AND p.kind = 'plan'
    WHERE e.type = 'installment_paid' AND e.seq > p.seq
    GROUP BY e.case_id
),
pivot AS (
    SELECT l.case_id,
        max(l.payload->>'policy') FILTER (WHERE kind = 'case_opened') AS policy,
        max(l.at) FILTER (WHERE kind = 'case_opened') AS opened_at,
        max(l.payload->>'stage') FILTER (WHERE kind = 'stage_changed') AS stage,
        max((l.payload->>'amount')::numeric)
            FILTER (WHERE kind = 'promise' AND type = 'promise_made') AS promise_amount,
        max((l.payload->>'due')::date)
            FILTER (WHERE kind = 'promise' AND type = 'promise_made') AS promise_due,
        max(l.at) FILTER (WHERE kind = 'promise_broken') AS broken_at,
        max(l.seq) FILTER (WHERE kind = 'promise_broken') AS broken_seq,
        max((l.payload->>'amount')::numeric) FILTER (WHERE kind = 'promise_broken')
            AS broken_amount,
        max((l.payload->>'installments')::integer)
            FILTER (WHERE kind = 'plan' AND type = 'plan_agreed') AS plan_installments,
        max((l.payload->>'installment_amount')::numeric)
            FILTER (WHERE kind = 'plan' AND type = 'plan_agreed') AS plan_amount,
        max((l.payload->>'first_due')::date)
            FILTER (WHERE kind = 'plan' AND type = 'plan_agreed') AS plan_first_due,
        max(l.at) FILTER (WHERE kind = 'plan_broken') AS missed_at,
        max(l.seq) FILTER (WHERE kind = 'plan_broken') AS missed_seq,
        max((l.payload->>'number')::integer) FILTER (WHERE kind = 'plan_broken')
            AS missed_number,
        bool_or(type = 'hold_started') FILTER (WHERE kind = 'hold_dispute') AS dispute_open,
        bool_or(type = 'hold_started') FILTER (WHERE kind = 'hold_cease_contact') AS cease,
        max(l.at) FILTER (WHERE kind = 'rpc') AS last_rpc_at,
        max(l.payload->>'agency') FILTER (WHERE kind = 'placement' AND type = 'placed')
            AS agency,
        max((l.payload->>'term_ends')::timestamptz)
            FILTER (WHERE kind = 'placement' AND type = 'placed') AS term_ends,
        max(l.at) FILTER (WHERE kind = 'legal_referred') AS legal_referred_at,
        max(l.at) FILTER (WHERE kind = 'case_closed') AS closed_at,
        max(l.payload->>'outcome') FILTER (WHERE kind = 'case_closed') AS outcome
    FROM latest l
    GROUP BY l.case_id
)
INSERT INTO case_worklist (
    case_id, policy, opened_at, stage, promise_amount, promise_due, promise_broken_at,
    promise_broken_amount, plan_installments, plan_installment_amount, plan_first_due,
    plan_installments_paid, plan_next_due, plan_missed_at, plan_missed_number, dispute_open,
    cease_contact, last_rpc_at, agency, term_ends, legal_referred_at, closed_at, outcome)
SELECT p.case_id, p.policy, p.opened_at, coalesce(p.stage, 'reminder'),
    p.promise_amount, p.promise_due,
    CASE WHEN p.broken_seq > coalesce(a.seq, 0) THEN p.broken_at END,
    CASE WHEN p.broken_seq > coalesce(a.seq, 0) THEN p.broken_amount END,
    p.plan_installments, p.plan_amount, p.plan_first_due,
    CASE WHEN p.plan_installments IS NOT NULL THEN coalesce(paid.number, 0) END,
    (p.plan_first_due + make_interval(months => coalesce(paid.number, 0)))::date,
    CASE WHEN p.missed_seq > coalesce(a.seq, 0) THEN p.missed_at END,
    CASE WHEN p.missed_seq > coalesce(a.seq, 0) THEN p.missed_number END,
    coalesce(p.dispute_open, false), coalesce(p.cease, false), p.last_rpc_at,
    p.agency, p.term_ends, p.legal_referred_at, p.closed_at, p.outcome
FROM pivot p
LEFT JOIN agreed a ON a.case_id = p.case_id
LEFT JOIN paid ON paid.case_id = p.case_id
WHERE p.opened_at IS NOT NULL;

-- Each stored payment's stage and agency at the time: the latest stage change and
-- placement/recall before it.
UPDATE payments pm SET
    stage = coalesce((SELECT e.payload->>'stage' FROM case_events e
                      WHERE e.case_id = pm.case_id AND e.type = 'stage_changed'
                        AND e.seq < pm.seq ORDER BY e.seq DESC LIMIT 1), 'reminder'),
    agency = (SELECT CASE WHEN e.type = 'placed' THEN e.payload->>'agency' END
              FROM case_events e
              WHERE e.case_id = pm.case_id AND e.type IN ('placed', 'recalled')
                AND e.seq < pm.seq ORDER BY e.seq DESC LIMIT 1);

GRANT SELECT, INSERT, UPDATE ON case_worklist TO arrears_app;
GRANT SELECT ON case_worklist TO arrears_auditor;
