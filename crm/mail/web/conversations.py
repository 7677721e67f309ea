"""The Conversations section of a record page (/mail/conversations/<slug>/<pk>/, loaded by htmx): the
received mail linked to the record, grouped by thread (crm/mailbox/threads.py), newest thread first,
a page at a time, each with its message count, participants and the last message's opening words;
a thread expands (/threads/<id>/) to its messages, a page at a time, HTML sanitized again on display.

Only messages the viewer may see: a message is read through its timeline activity
(``Activity.objects.restrict``: its owner, and those who see a record it is linked to), so a thread
shows the messages of it the viewer sees and a count of those alone. A record with 5,000 messages
costs a grouped query and one page of threads, never the 5,000 rows."""

from __future__ import annotations

import nh3
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from crm.mail.sanitize import LINK_REL
from crm.mailbox.models import InboundMessage, MailThread
from crm.records.models import Activity
from crm.records.services.common import get_visible
from crm.web.views.helpers import kind_or_404, page_errors

THREADS_PER_PAGE = 10
MESSAGES_PER_PAGE = 20
SNIPPET = 200
MAX_PEOPLE = 8
# No images on display: a remote one is a sender's tracking pixel (the CSP would block it anyway) and an
# inline one (cid:) has no source once sanitized; the files are listed on the timeline entry.
DISPLAY_TAGS = nh3.ALLOWED_TAGS - {"img"}


def _record(request, kind_slug: str, pk: int):
    kind = kind_or_404(kind_slug)
    if not kind.type.timeline:
        raise Http404("No conversations here.")
    return kind, get_visible(kind.objects(), request.user, pk)


def _visible_messages(user):
    """The received messages whose timeline activity the user may see."""
    return InboundMessage.objects.filter(activity__in=Activity.objects.restrict(user).filter(kind="email"))


def _of_record(user, record):
    return InboundMessage.objects.filter(
        activity__in=Activity.objects.restrict(user).filter(kind="email").linked_to(record)
    )


def display_html(value: str) -> str:
    return nh3.clean(value or "", tags=DISPLAY_TAGS, link_rel=LINK_REL)


def _page(request, rows, size: int):
    number = request.GET.get("page", "1")
    return Paginator(rows, size).get_page(number if str(number).isdigit() else 1)


def _people(messages, thread_ids, last_by_thread) -> dict[int, list[str]]:
    """Each thread's people: its distinct senders, then the newest message's recipients (a reply-all
    names everyone), at most MAX_PEOPLE shown."""
    people: dict[int, dict[str, str]] = {t: {} for t in thread_ids}
    senders = messages.filter(thread_id__in=thread_ids).values_list("thread_id", "from_address", "from_name")
    for thread_id, address, name in senders.order_by().distinct()[:500]:
        if address:
            people[thread_id].setdefault(address.lower(), name or address)
    for thread_id, last in last_by_thread.items():
        for address in [*(last.to or []), *(last.cc or [])]:
            if isinstance(address, str) and address:
                people[thread_id].setdefault(address.lower(), address)
    return {t: list(found.values()) for t, found in people.items()}


@login_required
@page_errors
@require_GET
def section(request, kind_slug: str, pk: int):
    """The record's threads, by their newest message about it; each thread's count, people and last
    message are of all its messages the viewer sees, which is what expanding it shows."""
    kind, record = _record(request, kind_slug, pk)
    grouped = _of_record(request.user, record).values("thread_id").annotate(last_at=Max("sent_at"))
    page = _page(request, grouped.order_by("-last_at", "-thread_id"), THREADS_PER_PAGE)
    ids = [row["thread_id"] for row in page]
    seen = _visible_messages(request.user).filter(thread_id__in=ids)
    counts = dict(seen.values("thread_id").annotate(n=Count("id")).values_list("thread_id", "n"))
    newest = seen.filter(thread_id=OuterRef("pk")).order_by("-sent_at", "-pk").values("pk")[:1]
    last_ids = MailThread.objects.filter(pk__in=ids).annotate(last=Subquery(newest)).values_list("last", flat=True)
    lasts = {m.thread_id: m for m in InboundMessage.objects.filter(pk__in=[v for v in last_ids if v])}
    people = _people(seen, ids, lasts)
    threads = [_thread_row(row, counts, lasts, people) for row in page]
    context = {"kind": kind, "obj": record, "threads": threads, "page": page}
    return render(request, "mail/parts/conversations.html", context)


def _thread_row(row: dict, counts: dict, lasts: dict, people: dict) -> dict:
    thread_id = row["thread_id"]
    last, found = lasts.get(thread_id), people.get(thread_id, [])
    return {
        "id": thread_id,
        "count": counts.get(thread_id, 0),
        "last_at": last.sent_at if last else row["last_at"],
        "subject": (last.subject if last else "") or "(no subject)",
        "snippet": " ".join(((last.text if last else "") or "").split())[:SNIPPET],
        "people": found[:MAX_PEOPLE],
        "more_people": max(0, len(found) - MAX_PEOPLE),
    }


@login_required
@page_errors
@require_GET
def thread(request, kind_slug: str, pk: int, thread_id: int):
    """A thread's messages the viewer sees, newest page first (shown oldest to newest); a thread with no
    message of this record the viewer sees is a 404, whether or not it exists."""
    kind, record = _record(request, kind_slug, pk)
    if not _of_record(request.user, record).filter(thread_id=thread_id).exists():
        raise Http404("No such conversation.")
    rows = _visible_messages(request.user).filter(thread_id=thread_id).order_by("-sent_at", "-pk")
    page = _page(request, rows, MESSAGES_PER_PAGE)
    shown = list(reversed(page.object_list))
    for m in shown:
        # Stored sanitized; cleaned again here, so a row written by an older sanitizer cannot run anything.
        m.safe_html = mark_safe(display_html(m.html)) if m.html else ""  # noqa: S308 - nh3's output
    context = {"kind": kind, "obj": record, "thread_id": thread_id, "messages": shown, "page": page}
    return render(request, "mail/parts/thread_messages.html", context)
