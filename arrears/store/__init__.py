"""What PostgreSQL keeps and how we reach it: the one asyncpg pool and its JSONB codecs,
the SQL migrations, the run archive and its sweep, and the retention purge.

The event store's writes are the activities' (`activities/event_store.py`); the read
models the commands show are read where they are shown.
"""
