"""The quote PDF (crm/quotes/pdf.py), read back with pypdf; and its fetcher, which loads nothing but the
logo and the app's own stylesheet (a loopback HTTP server counts what would have been fetched)."""

import dataclasses
import datetime as dt
import http.server
import io
import threading
from decimal import Decimal as D

import pytest
from pypdf import PdfReader

from crm.quotes.formatting import money
from crm.quotes.pdf import (
    BrandingValues,
    CustomerBlock,
    QuoteDocument,
    RefusedFetch,
    _asset,
    html_to_pdf,
    render_quote_pdf,
)
from crm.quotes.totals import INCLUSIVE, LineInput, compute_totals

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
    b"\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def document(lines, *, customer=None, logo=None, tax_mode="exclusive", **totals_kw):
    totals = compute_totals(lines, minor_units=2, tax_mode=tax_mode, **totals_kw)
    return QuoteDocument(
        branding=BrandingValues(
            name="Acme Widgets GmbH",
            address="Hauptstraße 1\n10115 Berlin",
            tax_ids="VAT DE123456789",
            footer_note="Bank: IBAN DE00 1234",
            logo_path=logo,
        ),
        number="Q-2026-0042",
        version=3,
        issued=dt.date(2026, 12, 7),
        valid_until=dt.date(2027, 1, 6),
        currency="EUR",
        totals=totals,
        customer=customer
        or CustomerBlock(company="Globex Corporation", contact="Hank Scorpio", address="1 Cypress Creek"),
        terms="Payment within 30 days.",
    )


def test_pdf_holds_the_lines_totals_taxes_number_and_branding(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    lines = [
        LineInput(quantity=D(2), unit_price=D("1250.00"), description="Widget Pro licence", tax_rate=D(19)),
        LineInput(
            quantity=D(1), unit_price=D("80"), description="Onboarding session", tax_rate=D(7), discount_percent=D(10)
        ),
        LineInput(quantity=D(-1), unit_price=D("100"), description="Returned bracket", tax_rate=D(19), is_credit=True),
    ]
    doc = document(lines, logo=logo, shipping=D("15"), shipping_tax_rate=D(19))
    pdf = render_quote_pdf(doc)
    assert pdf.startswith(b"%PDF-")
    text = flat(text_of(pdf))
    for expected in (
        "Acme Widgets GmbH",
        "Hauptstraße 1",
        "10115 Berlin",
        "VAT DE123456789",
        "Q-2026-0042",
        "Globex Corporation",
        "Hank Scorpio",
        "7 Dec 2026",
        "6 Jan 2027",
        "Payment within 30 days.",
        "Widget Pro licence",
        "Onboarding session",
        "Returned bracket",
        "Bank: IBAN DE00 1234",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    t = doc.totals
    # 2500.00 + 72.00 − 100.00; taxes 19 % on 2400 + 15 shipping, 7 % on 72.
    assert "€2,500.00" in text and "€72.00" in text and "−€100.00" in text
    assert f"Tax 19 % on {money(D('2415.00'), 'EUR', 2)} €458.85" in text
    assert "Tax 7 % on €72.00 €5.04" in text
    assert t.total == D("2950.89")
    assert "Total EUR €2,950.89" in text


def test_inclusive_quote_says_the_taxes_are_included():
    doc = document(
        [LineInput(quantity=D(1), unit_price=D("119"), description="Gadget", tax_rate=D(19))], tax_mode=INCLUSIVE
    )
    text = flat(text_of(render_quote_pdf(doc)))
    assert "Total EUR €119.00" in text
    assert "Includes tax 19 % on €100.00 €19.00" in text


def test_a_long_quote_repeats_the_header_and_numbers_its_pages():
    lines = [LineInput(quantity=D(1), unit_price=D(10), description=f"Item {i}", tax_rate=D(20)) for i in range(80)]
    reader = PdfReader(io.BytesIO(render_quote_pdf(document(lines))))
    assert len(reader.pages) >= 2
    last = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert "Unit price" in page_text  # the table header on every page
        assert f"Page {number} of {last}" in page_text


@pytest.fixture
def listener():
    """A loopback HTTP server on a free port that records every request it gets."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_user_text_is_escaped_and_nothing_is_fetched(listener):
    base, hits = listener
    hostile = (
        f'<img src="{base}/company.png"><link rel="stylesheet" href="{base}/x.css"> <img src="file:///etc/passwd">'
    )
    doc = document(
        [LineInput(quantity=D(1), unit_price=D(1), description=f'Line <img src="{base}/line.png"> & more')],
        customer=CustomerBlock(
            company=hostile, contact="<script>alert(1)</script>", address=f"<iframe src='{base}/a'>"
        ),
    )
    text = flat(text_of(render_quote_pdf(doc)))
    assert hits == []
    squeezed = text.replace(" ", "")  # the narrow description column may wrap the URL anywhere
    assert f'<imgsrc="{base}/line.png">&more' in squeezed  # shown as the text typed, not as an image
    assert "<script>alert(1)</script>" in text
    assert "root:x:0:0" not in text


def test_the_fetcher_refuses_every_url_but_the_logo_and_our_stylesheet(listener, tmp_path, caplog):
    base, hits = listener
    html = f"""<html><head><link rel="stylesheet" href="{base}/evil.css">
    <link rel="stylesheet" href="file:///etc/passwd"><style>@import url("{base}/import.css");
    @font-face {{ font-family: x; src: url("{base}/font.woff"); }}
    body {{ background: url("{base}/bg.png"); font-family: x }}</style>
    </head><body><img src="{base}/img.png"><img src="file:///etc/hostname"><img src="asset:static/quotes/../../pdf.py">
    <img src="asset:logo"><p>hello</p></body></html>"""
    pdf = html_to_pdf(html, BrandingValues(name="X"))  # no logo configured: asset:logo is refused too
    assert hits == []
    assert "hello" in text_of(pdf)
    assert "refused to fetch" in caplog.text


def test_asset_paths_cannot_leave_the_static_folder_and_the_logo_must_be_an_image(tmp_path):
    with pytest.raises(RefusedFetch):
        _asset("asset:static/quotes/../../pdf.py", None)
    with pytest.raises(RefusedFetch):
        _asset("asset:static/quotes/%2e%2e/x", None)
    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("<svg onload=alert(1)>")
    with pytest.raises(RefusedFetch):
        _asset("asset:logo", not_an_image)
    path, kind = _asset("asset:static/quotes/editor.css", None)
    assert path.name == "editor.css" and kind == "text/css"


def test_a_bad_brand_colour_falls_back_instead_of_reaching_the_stylesheet():
    lines = [LineInput(quantity=D(1), unit_price=D(1), description="x")]
    doc = document(lines)
    hostile = BrandingValues(name="X", primary_colour='red; } @import url("http://127.0.0.1:9/x.css"); {')
    pdf = html_to_pdf("<p>x</p>", hostile)
    assert pdf.startswith(b"%PDF-") and doc.number == "Q-2026-0042"


def test_text_at_the_fields_limits_splits_across_pages_instead_of_failing():
    """A cell taller than a page (a long address, a description without spaces) is split, not refused:
    ReportLab raises LayoutError for a table row that cannot fit on one page unless rows may split."""
    lines = [
        LineInput(quantity=D(1), unit_price=D(1), description="x" * 500),  # QuoteLine.description's max_length
        LineInput(quantity=D(1), unit_price=D(2), description="Last line"),
    ]
    doc = document(lines, customer=CustomerBlock(company="Globex", address="Street\n" * 150))
    doc = dataclasses.replace(
        doc,
        branding=dataclasses.replace(doc.branding, address="Hall 1\n" * 140, tax_ids="VAT\n" * 120),
        terms="Payment within 30 days. " * 400,
    )
    reader = PdfReader(io.BytesIO(render_quote_pdf(doc)))
    last = len(reader.pages)
    assert last >= 3
    text = flat(text_of(render_quote_pdf(doc)))
    assert "Last line" in text and "Total EUR €3.00" in text and f"Page {last} of {last}" in text
