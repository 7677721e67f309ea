"""The import benchmark runs end to end on a small file and reports what it measured."""

import io

import pytest
from django.db import connection

from crm.audit.models import ObjectChange
from crm.bench import imports
from crm.dataio.models import ImportBatch
from crm.records.models import Contact, ContactEmail, Tag

pytestmark = pytest.mark.django_db


def test_import_benchmark_reports_throughput_memory_floor_and_undo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    result = imports.run(300, out=out)
    counts = result["counts"]
    assert sum(counts[action] for action in ("create", "update", "skip", "error")) == 300  # one action a row
    assert counts["error"] == result["file_mix"]["invalid"] + result["file_mix"]["repeated"]
    assert counts["skip"] == result["file_mix"]["existing"]  # already in the CRM: matched, not created
    assert result["undo"]["deleted"] == counts["create"]
    assert Contact.objects.count() == imports.existing_count(300)  # only the pre-existing ones are left
    # The write floor took back what it wrote: its batch, tags, change log and search rows.
    assert ImportBatch.objects.count() == 1 and not Tag.objects.filter(name__startswith="floor-").exists()
    assert ContactEmail.objects.count() == imports.existing_count(300)
    assert not ObjectChange.objects.filter(changes__tags=[None, ["floor-a", "floor-b"]]).exists()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM search_name WHERE kind = 'contact'")
        assert cur.fetchone()[0] == imports.existing_count(300)
    for key in (
        "import_rows_per_s",
        "floor_rows_per_s",
        "write_floor_rows_per_s",
        "undo_rows_per_s",
        "peak_rss_mb_after",
        "peak_anon_mb",
        "ratio",
    ):
        assert result[key] > 0
    assert "rows/s" in out.getvalue()
