"""`arrears simulate`: a scenario's timeline (`scenario`, on the domain or on a private
time-skipping Temporal server, `on_temporal`) or a portfolio report (`portfolio`)."""
