"""The audit: replay a case's histories against today's code, rebuild its timeline from
the histories alone, check its contact records, and reconcile it with the event store.

`case` audits one case; `runner` fetches a case's runs (Temporal, then the run archive)
and is what every mode calls; `modes` is `arrears audit`'s work (files, server, export),
`jobs` its `--jobs` processes and `book` its `--on-workers` workflow; `findings`,
`store`, `output`, `request` and `histories` are the pieces they share.
"""
