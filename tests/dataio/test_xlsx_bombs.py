"""XLSX decompression bombs (ASVS 5.2.3): a workbook with too many entries or too many uncompressed bytes
is refused before anything inflates it, on the API, the web upload and the command's reader, with a
message that says which limit it crossed."""

import io
import zipfile

import pytest

from crm.dataio import xlsxread
from crm.dataio.csvread import FileError
from tests.test_hardening import api_import, var_dir, web_upload, xlsx_bytes  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def with_extra(entries: dict[str, bytes]) -> bytes:
    """A real workbook with extra entries added to its archive (a reader of the first sheet ignores them)."""
    out = io.BytesIO(xlsx_bytes())
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def many_entries(count: int) -> bytes:
    return with_extra({f"xl/media/pad{i}.bin": b"" for i in range(count)})


def inflating(megabytes: int) -> bytes:
    """A few kilobytes that unpack to ``megabytes`` of zeros."""
    return with_extra({"xl/media/zeros.bin": bytes(megabytes * 1024 * 1024)})


def test_the_reader_refuses_too_many_entries_before_reading(settings):
    settings.IMPORT_XLSX_MAX_ENTRIES = 50
    assert xlsxread.open_xlsx(io.BytesIO(many_entries(10))).header == ["Email", "Name"]
    with pytest.raises(FileError, match=r"too many files \(\d+\); at most 50"):
        xlsxread.open_xlsx(io.BytesIO(many_entries(60)))


def test_the_reader_refuses_too_many_uncompressed_bytes(settings):
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED = 2 * 1024 * 1024
    data = inflating(3)
    assert len(data) < 64 * 1024  # the bomb itself is small: the upload size limit does not catch it
    with pytest.raises(FileError, match=r"unpacks to too much data \(3 MB\); at most 2 MB"):
        xlsxread.open_xlsx(io.BytesIO(data))
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED = 4 * 1024 * 1024
    assert xlsxread.open_xlsx(io.BytesIO(data)).header == ["Email", "Name"]


def test_the_default_entry_limit_refuses_a_crafted_archive():
    with pytest.raises(FileError, match="too many files"):
        xlsxread.open_xlsx(io.BytesIO(many_entries(1200)))


@pytest.mark.parametrize("path", ["/api/v1/import/contacts", "/api/v1/import/contacts/columns"])
def test_api_import_refuses_a_bomb_with_400(api, manager, settings, path):
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED = 1024 * 1024
    r = api_import(api, manager, inflating(2), name="people.xlsx", path=path, dry_run="true")
    assert r.status_code == 400, r.content
    assert "unpacks to too much data" in r.json()["error"]["fields"]["file"]


def test_web_upload_refuses_a_bomb_and_keeps_nothing(web, manager, var_dir, settings):  # noqa: F811
    settings.IMPORT_XLSX_MAX_ENTRIES = 30
    r = web_upload(web(manager), many_entries(40), name="people.xlsx")
    assert r.status_code == 400 and "too many files" in r.content.decode()
    assert not (var_dir / "imports").exists() or list((var_dir / "imports").iterdir()) == []
