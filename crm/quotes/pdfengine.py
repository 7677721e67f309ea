"""WeasyPrint set up once per process for ``html_to_pdf`` (crm/quotes/pdf.py: the commission statement).
Quotes are laid out by ReportLab (crm/quotes/pdflayout.py; docs/benchmarks.md "Quotes" says why).

Setting up fontconfig again for every document cost more than laying a page out, so the font
configuration is made once and reused; the brand colour's one-line stylesheet is parsed once per colour.
"""

from __future__ import annotations

import atexit
import functools
import threading

_lock = threading.Lock()
_fonts = None


def weasyprint():
    """Imported when a PDF is rendered, so the rest of the app starts without Pango (docs/deploy.md)."""
    import weasyprint

    return weasyprint


def font_config():
    """One font configuration per process. Our documents declare no @font-face, so nothing is added to
    it per document."""
    global _fonts
    with _lock:
        if _fonts is None:
            from weasyprint.text.fonts import FontConfiguration

            _fonts = FontConfiguration()
    return _fonts


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
