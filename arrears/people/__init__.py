"""People and sign-in (issue 14): users, their passwords, console sessions, the sign-in
throttle and the log of who saw which case's personal data. All of it lives in
PostgreSQL (migration 0008); every rule that depends on time takes `now`."""
