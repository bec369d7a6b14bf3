"""`contacts`: contact attempts in the period by channel and outcome, how often the
debtor was reached, and how many attempts a case took.

An attempt is a `contact_attempted` event whose business time falls in the period. A
right-party contact (RPC) is what the decider itself counts as one
(`domain.contact_rules`, `CaseState.last_rpc_at`): an attempt on the debtor
(`target` = "debtor") whose outcome is a conversation with them: right_party_contact,
promise, refusal or dispute. A registered contact answering, a letter delivered or a
field visit ("visited") is not one. `attempts_per_case` divides attempts by the cases
that had at least one attempt in the period (the cases the row counts).

Rows: one per channel and outcome, then one per channel (outcome "all"), then one for
everything (channel and outcome "all"), each row's figures computed over its own
attempts. The report's `totals` stay empty: the "all" rows are the totals.

Attempts refused by the contact rules are not in this report because nothing records
them: the decider refuses such an attempt (`DomainError`) and no event is written, and
the plan proposes only attempts the rules allow (see docs/REPORTS.md).
"""

from __future__ import annotations

from typing import get_args

from arrears.reports.definition import SCOPE, Column, ReportDefinition
from domain.contact import is_right_party
from domain.events import Outcome

#: The domain's own right-party outcomes, so the report and the contact rules agree.
RIGHT_PARTY_OUTCOMES = tuple(o for o in get_args(Outcome) if is_right_party(o))

# Attempts are first counted per case, channel and outcome (a case has many attempts of
# a kind), so the grouping sets below count distinct cases over far fewer rows. The
# fields are taken out of the payload first, each once (`OFFSET 0` keeps the planner
# from folding that step into the next: it would sort whole payloads for the grouping,
# and open each payload again for every mention of `outcome` in the RPC test).
SQL = f"""WITH {SCOPE},
fields AS (
    SELECT e.case_id,
           e.payload->>'channel' AS channel,
           e.payload->>'outcome' AS outcome,
           e.payload->>'target' AS target
    FROM case_events e
    WHERE e.type = 'contact_attempted' AND e.at >= $1 AND e.at < $2
      AND $5::text IS NOT NULL
    OFFSET 0
),
attempts AS (
    SELECT case_id, channel, outcome,
           target = 'debtor'
               AND outcome IN ({", ".join(f"'{o}'" for o in RIGHT_PARTY_OUTCOMES)}) AS rpc
    FROM fields
),
per_case AS (
    SELECT a.case_id, a.channel, a.outcome, count(*) AS attempts,
           count(*) FILTER (WHERE a.rpc) AS rpc
    FROM attempts a JOIN scope s ON s.case_id = a.case_id
    GROUP BY 1, 2, 3
)
SELECT coalesce(channel, 'all') AS channel,
       coalesce(outcome, 'all') AS outcome,
       sum(attempts)::bigint AS attempts,
       count(DISTINCT case_id) AS cases,
       sum(rpc)::bigint AS right_party_contacts,
       round(sum(rpc) / sum(attempts), 4) AS rpc_rate,
       round(sum(attempts) / count(DISTINCT case_id), 4) AS attempts_per_case
FROM per_case
GROUP BY GROUPING SETS ((channel, outcome), (channel), ())
ORDER BY grouping(channel), channel, grouping(outcome), outcome"""

DEFINITION = ReportDefinition(
    kind="contacts",
    title="Contact attempts by channel and outcome, right-party contacts",
    sql=SQL,
    columns=(
        Column("channel", "text"),
        Column("outcome", "text"),
        Column("attempts", "int"),
        Column("cases", "int"),
        Column("right_party_contacts", "int"),
        Column("rpc_rate", "share"),
        Column("attempts_per_case", "share"),
    ),
    reads=frozenset({"case_opened", "contact_attempted"}),
)
