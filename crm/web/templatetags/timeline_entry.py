"""An activity's timeline entry rendered in Python: a record page shows 50 of them, and in the template
language each cost about 2 ms (some 20 variable lookups, ``truncatechars`` walking the whole body,
``date_format`` twice); here it is a few string joins. The HTML is the same the template gave
(tests/web/test_timeline_entry_html.py compares them)."""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata

from django import template
from django.template.defaultfilters import linebreaksbr
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

from crm.records.models import Activity
from crm.web.templatetags.web import activity_icon, person, when

register = template.Library()

BODY_CHARS = 600  # the excerpt of the body shown on the timeline
# What a page reads of each body in SQL (crm/records/timeline.py ``body_head``): one character more than
# ``excerpt`` looks at, so a head of this length says "the body goes on".
HEAD = BODY_CHARS * 2 + 2


def excerpt(text: str, limit: int = BODY_CHARS, *, whole=None) -> str:
    """``truncatechars:limit``, the same text, without its per-character Python loop when no character
    of the head is a combining one (which truncatechars does not count): then the cut is a slice. An
    email body may be 100 KB; only the head (twice the limit, NFC as truncatechars makes it) is read
    (a head that NFC shrank under the limit, or with combining characters, goes to truncatechars).
    ``text`` may be only the body's first HEAD characters; ``whole()`` then gives the body, read only
    when truncatechars needs more than the head (more combining characters than letters in it)."""
    head = text[: limit * 2 + 1]
    if not head.isascii():  # ASCII (most mail) is its own NFC and has no combining character
        head = unicodedata.normalize("NFC", head)
    if (not head.isascii() and any(map(unicodedata.combining, head))) or (len(head) <= limit < len(text)):
        cut = Truncator(text).chars(limit)  # rare: let truncatechars count
        if whole is not None and len(text) >= HEAD and cut == unicodedata.normalize("NFC", text):
            return Truncator(whole()).chars(limit)  # the head held too few letters to cut: the whole body
        return cut
    if len(head) <= limit:
        return head
    return _cut(head, limit, translation.get_language())


@functools.lru_cache(maxsize=64)
def _truncation(limit: int, language: str | None) -> tuple[int, str, str]:
    """Where truncatechars cuts and what it puts around the cut text, in ``language``: translation
    lookups that cost more than the cut itself, made once per language."""
    prefix, _, suffix = add_truncation_text("\x00", None).partition("\x00")
    return calculate_truncate_chars_length(limit, None), prefix, suffix


def _cut(head: str, limit: int, language: str | None) -> str:
    length, prefix, suffix = _truncation(limit, language)
    cut = head[:length]
    if cut.endswith(suffix):  # add_truncation_text may then leave it as it is: let it decide
        return add_truncation_text(cut, None)
    return f"{prefix}{cut}{suffix}"


def _iso(at) -> str:
    """``date:'c'`` of the template: ISO 8601 in the current zone."""
    if isinstance(at, dt.datetime) and timezone.is_aware(at):
        at = timezone.localtime(at)
    return at.isoformat()


def _body(o, context) -> str:
    """The excerpt, from the head the timeline read (``body_head``) or the body itself."""
    head = getattr(o, "body_head", None)
    if head is None:
        return excerpt(o.body) if o.body else ""

    def whole() -> str:  # through the reader's permissions, as the row itself was read
        user = context["request"].user
        return Activity.objects.restrict(user).filter(pk=o.pk).values_list("body", flat=True).first() or ""

    return excerpt(head, whole=whole) if head else ""


@register.simple_tag(takes_context=True)
def activity_entry(context, entry: dict):
    o, at = entry["object"], entry["at"]
    parts = "".join(
        # A part rendered in Python by its app ("html"), else its template.
        part.get("html") or get_template(part["template"]).render({"part": part}, context.get("request"))
        for part in getattr(o, "timeline_parts", ())
    )
    meta = [format_html('<time datetime="{}">{}</time> · {}', _iso(at), when(at), person(o.owner))]
    if o.duration_minutes:
        meta.append(format_html(" · {} min", o.duration_minutes))
    for value in (o.outcome, o.direction):
        if value:
            meta.append(format_html(" · {}", value))
    subject = format_html(": {}", o.subject) if o.subject else ""
    text = _body(o, context)
    body = format_html('<p class="prose">{}</p>', linebreaksbr(text, autoescape=True)) if text else ""
    return format_html(
        '<li class="tl tl-{kind}">\n    <span class="tl-icon" aria-hidden="true">{icon}</span>\n'
        '    <div class="tl-body">\n      <p class="tl-title"><strong>{label}</strong>{subject}</p>\n'
        '      {body}\n      {parts}\n      <p class="tl-meta">{meta}</p>\n    </div>\n  </li>',
        kind=o.kind,
        icon=activity_icon(o.kind),
        label=o.get_kind_display(),
        subject=subject,
        body=body,
        parts=mark_safe(parts),  # rendered by the parts' own (autoescaping) templates
        meta=mark_safe("".join(conditional_escape(m) for m in meta)),
    )
