"""`commissions`: what the bank owes each agency for a month (`--month YYYY-MM`).

An invoice line is one `commission_earned` event whose business time falls in the
period, shown beside the `payment_received` it was earned on (same case, the payment's
reference). After each agency's lines comes its total line (`line` = "total"): the
sums over that agency's lines, whatever their hand. The totals are sums of the
`commission_earned` events themselves, so they equal the month's events to the cent,
and the payment beside a line never decides whether the line is there.

The report's `totals` stay empty: each agency's total is a row, and a sum over every
row would count each line twice.
"""

from __future__ import annotations

from arrears.reports.definition import SCOPE, Column, ReportDefinition

# The payment a commission was earned on: the case's `payment_received` with the
# commission's reference (one reference is one payment on a case: domain/payments.py),
# recorded with it, so never after it nor after the period.
SQL = f"""WITH {SCOPE},
lines AS (
    SELECT c.case_id,
           c.payload->>'agency' AS agency,
           c.payload->>'hand' AS hand,
           (c.payload->>'rate')::numeric AS rate,
           c.payload->>'payment_reference' AS payment_reference,
           (c.payload->>'amount')::numeric AS commission,
           (c.at AT TIME ZONE $5::text)::date AS day,
           (p.payload->>'amount')::numeric AS amount,
           (p.payload->>'amount')::numeric - (p.payload->>'unapplied')::numeric AS applied
    FROM case_events c
    JOIN scope s ON s.case_id = c.case_id
    LEFT JOIN case_events p
      ON p.type = 'payment_received' AND p.case_id = c.case_id AND p.at <= c.at
     AND p.at < $2 AND p.payload->>'reference' = c.payload->>'payment_reference'
    WHERE c.type = 'commission_earned' AND c.at >= $1 AND c.at < $2
)
SELECT agency, 'payment' AS line, case_id, day AS date, payment_reference, hand, rate,
       1 AS payments, amount, applied, commission
FROM lines
UNION ALL
SELECT agency, 'total', NULL, NULL, NULL, NULL, NULL,
       count(*), sum(amount), sum(applied), sum(commission)
FROM lines
GROUP BY agency
ORDER BY agency, line, date, case_id, payment_reference"""

DEFINITION = ReportDefinition(
    kind="commissions",
    title="Agency commissions (invoice lines and each agency's total)",
    sql=SQL,
    columns=(
        Column("agency", "text"),
        Column("line", "text"),
        Column("case_id", "text"),
        Column("date", "date"),
        Column("payment_reference", "text"),
        Column("hand", "text"),
        Column("rate", "share"),
        Column("payments", "int"),
        Column("amount", "money"),
        Column("applied", "money"),
        Column("commission", "money"),
    ),
    reads=frozenset({"case_opened", "commission_earned", "payment_received"}),
)
