"""Alembic migrations of the service database (applied by :func:`service.db.migrate`)."""
