"""Reading an uploaded XLSX as the same stream of rows as a CSV: the first sheet, header first.

openpyxl's read-only mode streams the sheet's XML, so a large workbook is not held in memory.
Cells come back as text the way a person reads them (whole numbers without ".0", dates as ISO).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator

from django.conf import settings

from crm.dataio.csvread import CsvFile, FileError, check_header

ZIP_MAGIC = b"PK\x03\x04"


def is_xlsx(binary) -> bool:
    head = binary.read(4)
    binary.seek(0)
    return head == ZIP_MAGIC


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse a decompression bomb before anything inflates it (ASVS 5.2.3): too many entries, or more
    uncompressed bytes in all than IMPORT_XLSX_MAX_UNCOMPRESSED. The sizes are the ones the archive
    declares; zipfile never inflates an entry past its declared size, so a lying header gains nothing."""
    entries = archive.infolist()
    if len(entries) > settings.IMPORT_XLSX_MAX_ENTRIES:
        raise FileError(
            f"This XLSX workbook holds too many files ({len(entries)}); at most {settings.IMPORT_XLSX_MAX_ENTRIES}."
        )
    total = sum(entry.file_size for entry in entries)
    if total > settings.IMPORT_XLSX_MAX_UNCOMPRESSED:
        limit = settings.IMPORT_XLSX_MAX_UNCOMPRESSED // (1024 * 1024)
        raise FileError(
            f"This XLSX workbook unpacks to too much data ({total // (1024 * 1024)} MB); at most {limit} MB."
        )


def _check_bomb(binary) -> None:
    try:
        with zipfile.ZipFile(binary) as archive:
            check_archive(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(f"This is not a readable XLSX workbook ({exc}).") from None
    finally:
        binary.seek(0)


def open_xlsx(binary) -> CsvFile:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_bomb(binary)  # every reader of a stored or uploaded workbook comes through here
    try:
        book = load_workbook(binary, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise FileError(f"This is not a readable XLSX workbook ({exc}).") from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise FileError("The workbook has no sheet.")
    rows = _rows(sheet)
    total = sheet.max_row or 0  # from the sheet's dimension record; None when the writer left it out
    try:
        _, header = next(rows)
    except StopIteration:
        raise FileError("The file is empty.") from None
    while header and not header[-1]:  # trailing empty header cells are formatting, not columns
        header.pop()
    header = [h.strip() for h in header]
    check_header(header)
    read = _Counter()
    return CsvFile(
        encoding="xlsx",
        delimiter="",
        header=header,
        rows=read.count(_fit(rows, len(header))),
        fraction=lambda: min(1.0, read.line / total) if total > 1 else None,
    )


class _Counter:
    """Remembers the line of the last row handed out, for progress."""

    line = 0

    def count(self, rows):
        for number, cells in rows:
            self.line = number
            yield number, cells


def _rows(sheet) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [text(v) for v in values]
        if any(c.strip() for c in cells):
            yield number, cells


def _fit(rows, width: int) -> Iterator[tuple[int, list[str]]]:
    """Sheets pad rows to the widest row: empty cells past the header are not a ragged row."""
    for number, cells in rows:
        while len(cells) > width and not cells[-1].strip():
            cells.pop()
        yield number, cells + [""] * (width - len(cells))
