"""`recovery`: what was collected, by month x stage and by agency x hand, and the
liquidation rate of each placement vintage.

Collected is a `payment_received` event's amount less its unapplied part, at the
event's business time. Its stage is the case's when it came in (the last
`stage_changed` before it in the case's order; none yet: reminder); its agency and hand
those of the case's placement then (the last `placed` before it, unless a `recalled`
came after that placement). Three sections, one row each:

- `stage`: month (bank zone) x stage: `collected`. Sums to every payment of the period.
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
-- case's order; a running count per kind makes groups whose first row is the setter.
ev AS (
    SELECT e.case_id, e.seq, e.type, e.at, e.payload,
           count(*) FILTER (WHERE e.type = 'stage_changed')
               OVER (PARTITION BY e.case_id ORDER BY e.seq) AS stage_group,
           count(*) FILTER (WHERE e.type IN ('placed', 'recalled'))
               OVER (PARTITION BY e.case_id ORDER BY e.seq) AS place_group
    FROM case_events e JOIN scope USING (case_id)
    WHERE e.type IN ('stage_changed', 'placed', 'recalled', 'payment_received')
      AND e.at < $2::timestamptz
),
filled AS (
    SELECT case_id, seq, type, at, payload, place_group,
           first_value(payload->>'stage')
               OVER (PARTITION BY case_id, stage_group ORDER BY seq) AS stage,
           first_value(CASE WHEN type = 'placed' THEN payload END)
               OVER (PARTITION BY case_id, place_group ORDER BY seq) AS placement
    FROM ev
),
pays AS (
    SELECT case_id, place_group, at, coalesce(stage, 'reminder') AS stage,
           placement->>'agency' AS agency, placement->>'hand' AS hand,
           (payload->>'amount')::numeric - (payload->>'unapplied')::numeric AS collected
    FROM filled WHERE type = 'payment_received'
),
vintages AS (
    SELECT {_month("f.at")} AS month, f.payload->>'balance' IS NULL AS unknown,
           (f.payload->>'balance')::numeric AS balance,
           (SELECT coalesce(sum(p.collected), 0) FROM pays p
            WHERE p.case_id = f.case_id AND p.place_group = f.place_group) AS collected
    FROM filled f
    WHERE f.type = 'placed' AND f.at >= $1::timestamptz
)
SELECT section, month, stage, agency, hand, collected, agency_collected, placements,
       balance_unknown, placed_balance, placed_collected, liquidation_rate
FROM (
    SELECT 1 AS part, 'stage' AS section, {_month("at")} AS month, stage, NULL AS agency,
           NULL AS hand, sum(collected) AS collected, NULL::numeric AS agency_collected,
           NULL::int AS placements, NULL::int AS balance_unknown,
           NULL::numeric AS placed_balance, NULL::numeric AS placed_collected,
           NULL::numeric AS liquidation_rate, {stage_order("stage")} AS rank
    FROM pays WHERE at >= $1::timestamptz
    GROUP BY 3, stage
    UNION ALL
    SELECT 2, 'agency', NULL, NULL, agency, hand, NULL, sum(collected), NULL, NULL, NULL,
           NULL, NULL, NULL
    FROM pays WHERE at >= $1::timestamptz AND agency IS NOT NULL
    GROUP BY agency, hand
    UNION ALL
    SELECT 3, 'vintage', month, NULL, NULL, NULL, NULL, NULL, count(*)::int,
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
        "collected",
        "agency_collected",
        "placements",
        "balance_unknown",
        "placed_balance",
        "placed_collected",
    ),
)
