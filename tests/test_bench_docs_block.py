"""crm/bench/report.py write_block: every bench's --docs replaces its own marked block in
docs/benchmarks.md (here a copy), leaving the rest as it was, or adds the block at the end."""

from crm.bench.report import write_block
from crm.forecast import bench as forecast_bench


def test_a_block_is_replaced_in_place_and_others_are_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nintro\n<!-- bench:sales:sqlite -->\nold figures\n<!-- /bench:sales:sqlite -->\n"
        "after\n<!-- bench:sales:postgresql -->\npg figures\n<!-- /bench:sales:postgresql -->\n"
    )
    write_block("sales:sqlite", "new figures", doc)
    text = doc.read_text()
    assert "old figures" not in text and "new figures" in text and "pg figures" in text
    assert text.index("intro") < text.index("new figures") < text.index("after")
    assert text.count("<!-- bench:sales:sqlite -->") == 1


def test_a_missing_block_is_added_at_the_end(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n")
    write_block("predict:sqlite", "| step | time |", doc)
    write_block("predict:sqlite", "| step | again |", doc)
    text = doc.read_text()
    assert text.endswith("<!-- bench:predict:sqlite -->\n| step | again |\n<!-- /bench:predict:sqlite -->\n")
    assert "| step | time |" not in text and text.startswith("# Benchmarks\n\nintro\n")


def test_the_forecast_bench_writes_its_block_through_it(tmp_path, monkeypatch):
    from crm.bench import report

    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n")
    monkeypatch.setattr(report, "DOCS", doc)
    forecast_bench.update_docs("quarter figures", "sqlite")
    assert "<!-- bench:forecast:sqlite -->\nquarter figures\n<!-- /bench:forecast:sqlite -->" in doc.read_text()
    forecast_bench.update_docs("million figures", "sqlite", 300_000)
    text = doc.read_text()
    assert "<!-- bench:forecast:sqlite:1m -->\nmillion figures\n<!-- /bench:forecast:sqlite:1m -->" in text
    assert "quarter figures" in text  # the small block stays beside it
