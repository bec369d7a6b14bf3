"""`recovery`: what was collected, by month x stage and by agency x hand, and the
liquidation rate of each placement vintage.

Collected is a `payment_received` event's amount less its unapplied part, at the
event's business time. Its stage is the case's when it came in (the last
`stage_changed` before it in the case's order; none yet: reminder); its agency and hand
those of the case's placement then (the last `placed` before it, unless a `recalled`
came after that placement). Three sections, one row each:

- `stage`: month (bank zone) x stage: `received` (the payments' amounts), `unapplied`
  (the part of them beyond what was owed: an overpayment, held for refund, not
  recovered) and `collected` = received - unapplied. `received` sums to every payment
  of the period, to the cent; `collected` to what they recovered.
- `agency`: agency x hand: `agency_collected`, the payments of the period made while
  the case was placed with that agency in that hand.
- `vintage`: the month a placement was made (in the period): `placements`; of those
  whose `placed` event records the balance at placement, the sum of those balances
  (`placed_balance`) and what was collected while placed, up to the end of the period
  (`placed_collected`); `liquidation_rate` = placed_collected / placed_balance.
  Placements without a recorded balance (decided before `placed` carried one) are
  counted in `balance_unknown` and left out of the rate."""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition
from arrears.reports.kinds._sql import stage_order


def _month(at: str) -> str:
    """The bank month (YYYY-MM) of a time."""
    return f"to_char({at} AT TIME ZONE $5::text, 'YYYY-MM')"


SQL = f"""WITH {SCOPE},
-- The events that set a payment's stage and placement, with the payments, in each
-- case's order, in ONE window pass (one sort by case and seq): the latest stage change
-- and the latest placement or recall at or before each row, found as the running max of
-- "seq (zero-padded) || what it says", so each row carries its setter without a second
-- window over groups. Only the fields used are carried (the payloads stay behind: sorting
-- them spilled to disk).
ev AS (
    SELECT case_id, seq, type, at, received, collected, balance,
           max(stage_mark) OVER w AS stage_mark, max(place_mark) OVER w AS place_mark
    FROM (
        SELECT e.case_id, e.seq, e.type, e.at,
               CASE WHEN e.type = 'payment_received'
                    THEN (e.payload->>'amount')::numeric END AS received,
               CASE WHEN e.type = 'payment_received'
                    THEN (e.payload->>'amount')::numeric - (e.payload->>'unapplied')::numeric
               END AS collected,
               CASE WHEN e.type = 'placed' THEN e.payload->>'balance' END AS balance,
               CASE WHEN e.type = 'stage_changed'
                    THEN lpad(e.seq::text, 10, '0') || (e.payload->>'stage') END AS stage_mark,
               CASE WHEN e.type = 'placed'
                    THEN lpad(e.seq::text, 10, '0') || (e.payload->>'agency') || chr(31)
                         || (e.payload->>'hand')
                    WHEN e.type = 'recalled' THEN lpad(e.seq::text, 10, '0') END AS place_mark
        FROM case_events e JOIN scope USING (case_id)
        WHERE e.type IN ('stage_changed', 'placed', 'recalled', 'payment_received')
          AND e.at < $2::timestamptz
        OFFSET 0  -- the fields out first: the planner would sort whole payloads
    ) narrow
    WINDOW w AS (PARTITION BY case_id ORDER BY seq)
),
-- `place_group`: the seq of the placement (or recall) in force; agency and hand empty
-- after a recall.
filled AS (
    SELECT case_id, type, at, received, collected, balance,
           left(place_mark, 10) AS place_group,
           substr(stage_mark, 11) AS stage,
           nullif(split_part(substr(place_mark, 11), chr(31), 1), '') AS agency,
           nullif(split_part(substr(place_mark, 11), chr(31), 2), '') AS hand
    FROM ev
),
pays AS (
    SELECT case_id, place_group, at, coalesce(stage, 'reminder') AS stage, agency, hand,
           received, collected
    FROM filled WHERE type = 'payment_received'
),
-- What came in during each placement, summed once and joined: a lookup per placement
-- into `pays` (a CTE, so never indexed) read every payment once per placement.
placed_pays AS (
    SELECT case_id, place_group, sum(collected) AS collected
    FROM pays GROUP BY case_id, place_group
),
vintages AS (
    SELECT {_month("f.at")} AS month, f.balance IS NULL AS unknown,
           f.balance::numeric AS balance, coalesce(p.collected, 0) AS collected
    FROM filled f LEFT JOIN placed_pays p USING (case_id, place_group)
    WHERE f.type = 'placed' AND f.at >= $1::timestamptz
)
SELECT section, month, stage, agency, hand, received, unapplied, collected,
       agency_collected, placements,
       balance_unknown, placed_balance, placed_collected, liquidation_rate
FROM (
    SELECT 1 AS part, 'stage' AS section, {_month("at")} AS month, stage, NULL AS agency,
           NULL AS hand, sum(received) AS received, sum(received) - sum(collected) AS unapplied,
           sum(collected) AS collected, NULL::numeric AS agency_collected,
           NULL::int AS placements, NULL::int AS balance_unknown,
           NULL::numeric AS placed_balance, NULL::numeric AS placed_collected,
           NULL::numeric AS liquidation_rate, {stage_order("stage")} AS rank
    FROM pays WHERE at >= $1::timestamptz
    GROUP BY 3, stage
    UNION ALL
    SELECT 2, 'agency', NULL, NULL, agency, hand, NULL, NULL, NULL, sum(collected), NULL,
           NULL, NULL,
           NULL, NULL, NULL
    FROM pays WHERE at >= $1::timestamptz AND agency IS NOT NULL
    GROUP BY agency, hand
    UNION ALL
    SELECT 3, 'vintage', month, NULL, NULL, NULL, NULL, NULL, NULL, NULL, count(*)::int,
           count(*) FILTER (WHERE unknown)::int,
           coalesce(sum(balance), 0), coalesce(sum(collected) FILTER (WHERE NOT unknown), 0),
           sum(collected) FILTER (WHERE NOT unknown) / nullif(sum(balance), 0), NULL
    FROM vintages GROUP BY month
) r
ORDER BY part, month, rank, agency, hand"""

DEFINITION = ReportDefinition(
    kind="recovery",
    title="Recovery: collected by month x stage and agency x hand; liquidation by vintage",
    sql=SQL,
    columns=(
        Column("section", "text"),
        Column("month", "text"),
        Column("stage", "text"),
        Column("agency", "text"),
        Column("hand", "text"),
        Column("received", "money"),
        Column("unapplied", "money"),
        Column("collected", "money"),
        Column("agency_collected", "money"),
        Column("placements", "int"),
        Column("balance_unknown", "int"),
        Column("placed_balance", "money"),
        Column("placed_collected", "money"),
        Column("liquidation_rate", "share"),
    ),
    reads=frozenset({"case_opened", "stage_changed", "placed", "recalled", "payment_received"}),
    totals=(
        "received",
        "unapplied",
        "collected",
        "agency_collected",
        "placements",
        "balance_unknown",
        "placed_balance",
        "placed_collected",
    ),
)
