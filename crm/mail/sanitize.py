"""HTML bodies through nh3 (the Ammonia sanitizer): on saving a template, and again after rendering,
so neither what a user typed nor what a merge field held can put a script or handler in a mail."""

from __future__ import annotations

import html

import nh3
from django.utils.html import strip_tags

# Ammonia's defaults (formatting tags, links, images, tables; no script, style, iframe, on* or style
# attributes, no javascript: URLs) plus the link relation forced on every <a>.
LINK_REL = "noopener noreferrer"


def clean_html(value: str) -> str:
    return nh3.clean(value or "", link_rel=LINK_REL)


def text_of(value: str) -> str:
    """A plain-text alternative of an HTML body (block ends become line breaks)."""
    spaced = (value or "").replace("<br>", "\n").replace("<br/>", "\n").replace("</p>", "</p>\n\n")
    lines = [line.strip() for line in html.unescape(strip_tags(spaced)).splitlines()]
    return "\n".join(lines).strip()
