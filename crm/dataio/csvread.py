"""Reading an uploaded CSV as a stream of rows: encoding and delimiter detected, clear errors.

Encodings: UTF-8 (with or without BOM), UTF-16 (BOM) and, failing UTF-8, Windows-1252. The whole
file is checked once (streamed) before any row is used, so a bad byte far down never stops an
import half way. Quoted fields may hold delimiters and newlines.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from crm.core.errors import BadRequest

CHUNK = 1024 * 1024
SAMPLE = 64 * 1024
DELIMITERS = ",;\t|"
MAX_CELL = 1024 * 1024  # a cell past this is not CRM data (a 10 MB cell is refused with a clear message)
MAX_COLUMNS = 500


class FileError(BadRequest):
    """The file as a whole cannot be read; nothing of it is imported."""

    def __init__(self, message: str):
        super().__init__(message, fields={"file": message})


@dataclass
class CsvFile:
    encoding: str
    delimiter: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line where the row starts, the header being line 1; cells)
    fraction: Callable[[], float | None] = lambda: None  # how much of the file has been read, for progress


def detect_encoding(binary) -> str:
    head = binary.read(4)
    binary.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    ok, saw_nul = True, False
    while chunk := binary.read(CHUNK):
        saw_nul = saw_nul or b"\x00" in chunk
        if ok:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                ok = False
    binary.seek(0)
    if saw_nul:
        raise FileError("This is not a text (CSV) file: it holds binary data.")
    if ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            ok = False
    return "utf-8" if ok else "cp1252"


def open_csv(binary) -> CsvFile:
    """``binary``: a seekable file opened in binary mode."""
    encoding = detect_encoding(binary)
    text = io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
    sample = text.read(SAMPLE)
    if not sample.strip():
        raise FileError("The file is empty.")
    if "\x00" in sample:
        raise FileError("This is not a text (CSV) file: it holds binary data.")
    delimiter = sniff(sample)
    text.seek(0)
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(text, delimiter=delimiter)
    rows = _rows(reader)
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileError("The file is empty.") from None
    header = [h.strip() for h in header]
    check_header(header)
    size = _size(binary)
    return CsvFile(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        rows=rows,
        fraction=lambda: _fraction(binary, size),
    )


def _fraction(binary, size: int) -> float | None:
    if not size:
        return None
    try:
        return min(1.0, binary.tell() / size)
    except ValueError:  # closed with the text reader at the end of the file
        return 1.0


def _size(binary) -> int:
    """The file's size without moving the read position (the text wrapper reads ahead of it)."""
    try:
        return os.fstat(binary.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return getattr(binary, "size", 0) or len(getattr(binary, "getbuffer", lambda: b"")())


def sniff(sample: str) -> str:
    # The sniffer looks at whole lines; a half line at the sample's end would mislead it.
    lines = sample[: sample.rfind("\n")] if "\n" in sample else sample
    try:
        return csv.Sniffer().sniff(lines, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines.splitlines()[0] if lines else ""
        return max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","


def check_header(header: list[str]) -> None:
    if not any(header):
        raise FileError("The first row (the header) is empty.")
    if len(header) > MAX_COLUMNS:
        raise FileError(f"Too many columns ({len(header)}); at most {MAX_COLUMNS}.")
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:
        raise FileError(f"Column {blank[0]} has no name in the header.")
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        key = h.lower()
        if key in seen:
            raise FileError(f"The header names {h!r} twice (columns {seen[key] + 1} and {i + 1}).")
        seen[key] = i


def _rows(reader) -> Iterator[tuple[int, list[str]]]:
    """Rows with their number; blank lines skipped; a malformed or oversized cell is a FileError."""
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise FileError(
                    f"Line {reader.line_num}: a cell is larger than {MAX_CELL // 1024} KB; is this the right file?"
                ) from None
            raise FileError(f"Line {reader.line_num}: {exc}.") from None
        if row and any(cell.strip() for cell in row):
            yield start, row


def size_of(binary) -> int:
    return _size(binary)
