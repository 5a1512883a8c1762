"""PostgreSQL adapters: SQLAlchemy 2 (async, Core) over asyncpg; the schema is alembic's."""
