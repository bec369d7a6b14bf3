"""What PostgreSQL keeps and how we reach it: the one asyncpg pool and its JSONB codecs,
the SQL migrations, the case event store (`events`) and the read models written with it
(`read_models`), the run archive and its sweep, and the retention purge.

Nothing here imports `activities/` or `workflows/`: the Temporal activities that reach the
event store (`activities/event_store.py`) depend on this package, not the other way round.
The read models the commands show are read where they are shown.
"""
