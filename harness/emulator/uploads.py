"""Multipart uploads streamed to disk, with bounded memory.

The file part is written to a temporary file as it arrives (the request body
is never held in memory); other fields are small strings (at most
``MAX_FIELD_BYTES`` each). :func:`read_form` raises :class:`UploadTooLarge`
as soon as the file part passes ``max_file_bytes`` (``None``: no limit) and
:class:`MalformedBody` for anything the parser cannot read.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import python_multipart
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

MAX_FIELD_BYTES = 64 * 1024
MAX_PARTS = 64
MAX_PART_HEADER_BYTES = 16 * 1024  # one part header line (name + value)
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,8}$")


class MalformedBody(Exception):
    """The multipart body cannot be parsed."""


class UploadTooLarge(Exception):
    """The file part is larger than the configured limit."""


@dataclass
class UploadedFile:
    path: Path  # on disk; removed by Form.cleanup()
    filename: str
    size: int = 0

    @property
    def extension(self) -> str:
        """Lower-case extension without the dot ('' when there is none)."""
        suffix = Path(self.filename).suffix.lower()
        return suffix[1:] if suffix else ""


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def cleanup(self) -> None:
        for f in self.files.values():
            with contextlib.suppress(OSError):
                f.path.unlink()


def is_multipart(request: Request) -> bool:
    ctype, _ = parse_options_header(request.headers.get("content-type", ""))
    return ctype == b"multipart/form-data"


async def drain(request: Request, limit: int = 1 << 31) -> None:
    """Read and discard what is left of the body, so the client sees the response."""
    seen = 0
    with contextlib.suppress(Exception):
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit:
                break


async def read_form(request: Request, max_file_bytes: int | None) -> Form:
    """Parse a multipart body; the caller must call ``form.cleanup()``."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise MalformedBody("missing multipart boundary")
    reader = _Reader(max_file_bytes)
    try:
        parser = python_multipart.MultipartParser(boundary, reader.callbacks())
        async for chunk in _body(request):
            parser.write(chunk)
            reader.raise_pending()
        parser.finalize()
        reader.raise_pending()
        if not reader.ended:
            raise MalformedBody("multipart body ends early")
    except (UploadTooLarge, MalformedBody):
        reader.form.cleanup()
        reader.close_current()
        raise
    except Exception as exc:  # the parser's own errors
        reader.form.cleanup()
        reader.close_current()
        raise MalformedBody(str(exc)) from None
    return reader.form


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


class _Reader:
    """python-multipart callbacks that write the file parts to disk."""

    def __init__(self, max_file_bytes: int | None) -> None:
        self.max_file_bytes = max_file_bytes
        self.form = Form()
        self.ended = False
        self._pending: Exception | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._data = bytearray()
        self._file: UploadedFile | None = None
        self._fh: BinaryIO | None = None
        self._parts = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._hfield,
            "on_header_value": self._hvalue,
            "on_header_end": self._hend,
            "on_headers_finished": self._headers_done,
            "on_end": self._end,
        }

    def raise_pending(self) -> None:
        if self._pending is not None:
            exc, self._pending = self._pending, None
            raise exc

    def close_current(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(Exception):
                self._fh.close()
            self._fh = None
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.path.unlink()

    def _fail(self, exc: Exception) -> None:
        if self._pending is None:
            self._pending = exc

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            self._fail(MalformedBody("too many parts"))
        self._headers = {}
        self._name = ""
        self._data = bytearray()
        self._file = None

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]
        self._check_header()

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._header_field) + len(self._header_value) > MAX_PART_HEADER_BYTES:
            self._header_field, self._header_value = bytearray(), bytearray()
            self._fail(MalformedBody(f"part header over {MAX_PART_HEADER_BYTES} bytes"))

    def _hend(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def _headers_done(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            self._fail(MalformedBody("part without a form-data name"))
            return
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            filename = options[b"filename"].decode("utf-8", "replace")
            ext = Path(filename).suffix.lower().lstrip(".")
            fd, path = tempfile.mkstemp(
                prefix="emulator-upload-", suffix="." + ext if _SAFE_EXT.match(ext) else ""
            )
            self._fh = os.fdopen(fd, "wb")
            self._file = UploadedFile(Path(path), filename)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._pending is not None:
            return
        chunk = data[start:end]
        if self._file is not None and self._fh is not None:
            self._file.size += len(chunk)
            if self.max_file_bytes is not None and self._file.size > self.max_file_bytes:
                self._fail(UploadTooLarge(f"file part over {self.max_file_bytes} bytes"))
                return
            self._fh.write(chunk)
        else:
            self._data += chunk
            if len(self._data) > MAX_FIELD_BYTES:
                self._fail(MalformedBody(f"field {self._name!r} over {MAX_FIELD_BYTES} bytes"))

    def _part_end(self) -> None:
        if self._pending is not None:
            return
        if self._file is not None and self._fh is not None:
            self._fh.close()
            self._fh = None
            old = self.form.files.pop(self._name, None)
            if old is not None:  # a repeated file part: the last one wins
                with contextlib.suppress(OSError):
                    old.path.unlink()
            self.form.files[self._name] = self._file
            self._file = None
        elif self._name:
            self.form.fields[self._name] = self._data.decode("utf-8", "replace")

    def _end(self) -> None:
        self.ended = True
