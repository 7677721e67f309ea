"""WeasyPrint set up once per process for quote PDFs (crm/quotes/pdf.py), measured by `crm bench quotes`.

A 50-line quote took ~480 ms (issue 14's goal: p95 under 300 ms). What a render repeated for nothing:

- parsing the stylesheet and setting up fontconfig: both are now made once per process and reused (the
  stylesheet is static, and declares no @font-face, so it holds no per-document state);
- matching WeasyPrint's whole HTML user-agent stylesheet against every element: ``QuoteHTML`` starts
  from static/quotes/quote-pdf-base.css, which covers only the elements the quote template uses;
- parsing the HTML with tinyhtml5 (pure Python): the quote template is well-formed XML, so the C XML
  parser reads it; anything it refuses (say a control character in a description) goes to tinyhtml5.
  Escaped user text cannot add a DOCTYPE or entities, so the XML parser expands nothing of the user's.

The rest is layout, drawing and the PDF itself, kept cheap by the stylesheet (fixed table layouts).
"""

from __future__ import annotations

import atexit
import functools
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static" / "quotes"
_lock = threading.Lock()
_fonts = None


def weasyprint():
    """Imported when a PDF is rendered, so the rest of the app starts without Pango (docs/deploy.md)."""
    import weasyprint

    return weasyprint


def font_config():
    """One font configuration per process: setting up fontconfig again for every PDF costs more than
    laying the quote out. Our stylesheets declare no @font-face, so nothing is added to it per document."""
    global _fonts
    with _lock:
        if _fonts is None:
            from weasyprint.text.fonts import FontConfiguration

            _fonts = FontConfiguration()
    return _fonts


@functools.lru_cache(maxsize=4)
def stylesheet(name: str):
    """A stylesheet of this app, parsed once (files in static/quotes change only with a deploy). Without
    the font configuration: the sheets declare no @font-face, and a cached sheet would keep it alive."""
    return weasyprint().CSS(string=(STATIC / name).read_text())


@atexit.register
def _release_fonts() -> None:
    """Free the fonts while the font library is still loaded: left to interpreter teardown, WeasyPrint's
    FontConfiguration.__del__ finds its C functions already gone ("Exception ignored ... __del__")."""
    global _fonts
    _fonts = None


@functools.lru_cache(maxsize=32)
def brand_sheet(colour: str):
    """The brand colour as a CSS variable; ``colour`` is already checked to be #rrggbb."""
    return weasyprint().CSS(string=f":root {{ --brand: {colour}; }}")


def quote_html(html: str, *, base_url: str, url_fetcher):
    """A WeasyPrint document for quote_pdf.html (see the module docstring for what differs)."""
    return _quote_html_class()(html, base_url=base_url, url_fetcher=url_fetcher)


@functools.cache
def _quote_html_class():
    base = weasyprint().HTML

    class QuoteHTML(base):
        def __init__(self, html: str, *, base_url: str, url_fetcher):
            try:
                # <br> is the one void element Django's filters write (linebreaksbr); user text is escaped.
                root = ET.fromstring(html.replace("<br>", "<br/>"))
            except ET.ParseError:
                super().__init__(string=html, base_url=base_url, url_fetcher=url_fetcher)
                return
            import cssselect2

            self.base_url = base_url
            self.url_fetcher = url_fetcher
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms=False):
            return [stylesheet("quote-pdf-base.css")]

        def _ph_stylesheets(self):
            return []

    return QuoteHTML
