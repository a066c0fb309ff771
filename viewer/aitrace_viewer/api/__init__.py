"""The JSON API routes and the ingest body parser."""

from ._parse import BodyReader, IngestError, parse_batch
from ._routes import api_router, csv_text, notify_changed

__all__ = ["BodyReader", "IngestError", "api_router", "csv_text", "notify_changed", "parse_batch"]
