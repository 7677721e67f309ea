"""`crm bench quotes` runs end to end (figures are printed, never asserted: machines are noisy)."""

from io import StringIO

from django.core.management import call_command


def test_bench_quotes_prints_both_figures():
    out = StringIO()
    call_command("bench", "quotes", "--samples", "3", stdout=out)
    text = out.getvalue()
    assert "totals of a 200-line quote" in text and "PDF of a 50-line quote" in text
