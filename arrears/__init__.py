"""Arrears' application layer: everything between the entry points and `domain/`.

Grouped by what a reader looks for: `cli/` (one module per command), `cases/`, `intake/`,
`store/`, `stack/`, `serve/`, `audit/`, `simulate/`, `logs/`, `policies/`, with `settings`,
`errors`, `workers` (a worker's wiring), `spawned` and `pem` beside them. The collections
rules live in `domain/`; this package is the plumbing around them.
"""
