"""The package version and the record schema version, in one place (hatch reads ``__version__`` here)."""

__version__ = "0.1.0"
#: Version of the record schema (docs/schema.md); bumped on incompatible changes.
SCHEMA_VERSION = 2
