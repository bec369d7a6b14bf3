"""The embedded stack: a Temporal dev server and a PostgreSQL server run as child processes.

`arrears up` starts whatever is not configured externally, applies migrations, and stops
what it started on Ctrl-C or SIGTERM. Children run in their own session (so a terminal's
Ctrl-C reaches only us and we stop them in order) and get a parent-death signal (so even
a SIGKILLed `arrears up` leaves no server behind).
"""
