"""The import benchmark runs end to end on a small file and reports what it measured."""

import io

import pytest

from crm.bench import imports
from crm.records.models import Contact

pytestmark = pytest.mark.django_db


def test_import_benchmark_reports_throughput_memory_floor_and_undo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    result = imports.run(300, out=out)
    counts = result["counts"]
    assert sum(counts.values()) == 300
    assert counts["error"] == result["file_mix"]["invalid"] + result["file_mix"]["repeated"]
    assert counts["skip"] == result["file_mix"]["existing"]  # already in the CRM: matched, not created
    assert result["undo"]["deleted"] == counts["create"]
    assert Contact.objects.count() == imports.existing_count(300)  # only the pre-existing ones are left
    for key in (
        "import_rows_per_s",
        "floor_rows_per_s",
        "undo_rows_per_s",
        "peak_rss_mb_after",
        "peak_anon_mb",
        "ratio",
    ):
        assert result[key] > 0
    assert "rows/s" in out.getvalue()
