"""Alembic's entry point: run the migrations on the connection `migrate` hands over, in its transaction."""

from alembic import context

from backoffice.store.tables import metadata

VERSION_TABLE = "backoffice_schema_version"

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
