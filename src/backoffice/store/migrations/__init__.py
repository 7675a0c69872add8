"""The Alembic environment of the engine's tables: run by `backoffice.store.migrate`, never by hand."""
