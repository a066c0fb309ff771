"""Alembic migrations of the aitrace store, shipped inside the package."""
