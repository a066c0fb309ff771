"""Ingest bodies → validated records. Every refusal is an :class:`IngestError` with a status."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import fastjsonschema
import msgspec

from aitrace_core import record_schema

from ._fastcheck import UnsupportedSchema, fast_check

__all__ = ["BodyReader", "IngestError", "parse_batch", "quick_validator", "validator"]


class IngestError(Exception):
    """A refused batch: ``status`` (400/413/415), a message, and the index of the first bad record if any."""

    def __init__(self, status: int, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.index = index


@lru_cache(maxsize=1)
def validator() -> Callable[[Any], Any]:
    """The record schema compiled once (fastjsonschema; the 2020-12 keywords it uses exist in draft 7)."""
    schema = dict(record_schema())
    schema.pop("$schema", None)
    schema.pop("$id", None)
    compiled: Callable[[Any], Any] = fastjsonschema.compile(schema)
    return compiled


@lru_cache(maxsize=1)
def quick_validator() -> Callable[[Any], bool]:
    """The accept-only fast check generated from the same schema (``False``: ask :func:`validator`)."""
    try:
        return fast_check(record_schema())
    except UnsupportedSchema:  # the schema grew something the generator does not know: full validation only
        return lambda _record: False


_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def _decode(data: bytes, where: str, index: int | None = None) -> Any:
    try:
        return _decoder.decode(data)
    except RecursionError:
        raise IngestError(400, f"{where}: nested too deeply", index) from None
    except UnicodeDecodeError as exc:
        raise IngestError(400, f"{where}: not valid UTF-8 (byte {exc.start})", index) from None
    except msgspec.DecodeError as exc:
        raise IngestError(400, f"{where}: invalid JSON: {exc}", index) from None


def _check(index: int, record: Any, size: int, max_record_bytes: int) -> None:
    """Validate one record (``size``: the length of its JSON text)."""
    if not isinstance(record, dict):
        raise IngestError(400, f"record {index}: not a JSON object", index)
    if size > max_record_bytes:
        raise IngestError(
            413, f"record {index}: {size:,} bytes, over the per-record limit of {max_record_bytes:,}", index
        )
    if quick_validator()(record):
        return
    try:
        validator()(record)
    except fastjsonschema.JsonSchemaValueException as exc:
        name = exc.name.removeprefix("data").lstrip(".") if exc.name else ""
        message = exc.message.removeprefix(exc.name or "").strip() if exc.message else "invalid"
        shown = repr(exc.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        where = f"{name}: " if name else ""
        raise IngestError(400, f"record {index}: {where}{shown} {message}", index) from None


def parse_batch(body: bytes, max_record_bytes: int) -> tuple[list[dict[str, Any]], list[str]]:
    """A JSON array or JSONL → ``(records, their JSON texts)``; the first problem raises :class:`IngestError`.

    A JSONL record is stored as the very line it came in; a record of a JSON array as its compact encoding.
    """
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        records: list[dict[str, Any]] = []
        raws: list[str] = []
        items = _decode(stripped, "body")
        if not isinstance(items, list):
            raise IngestError(400, "body: expected a JSON array of records")
        for index, item in enumerate(items):
            try:
                raw = _encoder.encode(item).decode("utf-8")
            except RecursionError:
                raise IngestError(400, f"record {index}: nested too deeply", index) from None
            if len(raw) > max_record_bytes or not quick_validator()(item):
                _check(index, item, len(raw), max_record_bytes)
            raws.append(raw)
            records.append(item)
        return records, raws
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:  # somewhere: decode line by line, so that the error names its record
        return _parse_lines(_utf8_lines(stripped), True, max_record_bytes)
    return _parse_lines(text.split("\n"), not text.isascii(), max_record_bytes)


def _utf8_lines(body: bytes) -> Iterator[str]:
    index = 0
    for line in body.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IngestError(400, f"record {index}: not valid UTF-8 (byte {exc.start})", index) from None
        index += 1


_SPACE = " \t\r\n\x0b\x0c"  # what bytes.strip() strips: ASCII whitespace only


def _parse_lines(
    lines: Iterable[str], wide: bool, max_record_bytes: int
) -> tuple[list[dict[str, Any]], list[str]]:
    """JSONL lines already decoded from UTF-8 (``wide``: some are not ASCII, so characters are not bytes)."""
    records: list[dict[str, Any]] = []
    raws: list[str] = []
    quick = quick_validator()
    decode = _decoder.decode
    index = 0
    for line in lines:
        line = line.strip(_SPACE)
        if not line:
            continue
        try:
            item = decode(line)
        except (RecursionError, msgspec.DecodeError):
            item = _decode(line.encode("utf-8"), f"record {index}", index)  # raises with the message
        size = len(line)
        if wide and size * 4 > max_record_bytes:
            size = len(line.encode("utf-8"))
        if size > max_record_bytes or not quick(item):  # the fast path says "not sure": full check
            _check(index, item, size, max_record_bytes)
        records.append(item)
        raws.append(line)
        index += 1
    return records, raws


_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
"""``wbits`` for :func:`zlib.decompressobj` (47): the largest window (32 KiB, any compressor's) and +32 to
detect the header, so a gzip body or a bare zlib stream both inflate (gzip alone would be 16 + 15)."""


class BodyReader:
    """Reads a request body, un-gzipping as it goes, and stops as soon as it passes ``limit`` bytes."""

    def __init__(self, limit: int, encoding: str | None) -> None:
        self.limit = limit
        enc = (encoding or "identity").strip().lower()
        if enc not in ("identity", "gzip", "x-gzip"):
            raise IngestError(415, f"Content-Encoding {encoding!r} is not supported (use gzip or none)")
        self.gzip = enc != "identity"

    def _too_big(self) -> IngestError:
        return IngestError(413, f"body over the limit of {self.limit:,} bytes (after decompression)")

    async def read(self, chunks: AsyncIterator[bytes]) -> bytes:
        out = bytearray()
        received = 0
        inflater = zlib.decompressobj(wbits=_GZIP_OR_ZLIB) if self.gzip else None
        async for chunk in chunks:
            received += len(chunk)
            if received > self.limit + 1024 * 1024 and inflater is None:
                raise self._too_big()
            if inflater is None:
                out += chunk
                if len(out) > self.limit:
                    raise self._too_big()
                continue
            data = chunk
            while data:
                if inflater.eof:  # another gzip member follows
                    inflater = zlib.decompressobj(wbits=_GZIP_OR_ZLIB)
                try:
                    piece = inflater.decompress(data, self.limit + 1 - len(out))
                except zlib.error as exc:
                    raise IngestError(400, f"body is not valid gzip: {exc}") from None
                out += piece
                if len(out) > self.limit:
                    raise self._too_big()
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        if inflater is not None and received and not inflater.eof:
            raise IngestError(400, "body is truncated gzip")
        return bytes(out)
