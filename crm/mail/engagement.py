"""Opens and clicks on the timelines: each event an entry on the timeline of every record its message's
timeline activity is linked to (read through the user's own activity permissions, so a user sees the
engagement of exactly the mail they see there), and the counts and bounce on the message's entry.
Registered with crm/records/timeline.py by MailConfig.ready."""

from __future__ import annotations

from django.template.defaultfilters import truncatechars
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from crm.mail import tracking
from crm.mail.models import EngagementEvent, OutgoingEmail, Tracking
from crm.records.models import Activity, ActivityLink

APPROXIMATE = "(opens are approximate: image-proxying mail clients such as Gmail and Apple Mail count as opens)"
BOUNCED = '<strong class="pill pill-bounced" data-bounced>Bounced</strong> <span class="muted">{}</span>'


def timeline_source(record, user, limit: int):
    """The newest ``limit`` events of the mail linked to ``record`` that ``user`` sees. The record's
    messages are found through its links' index alone (a sent message's activity is always its email
    activity): a reader who sees every activity then costs no read of the activity rows, which for a
    record with 5,000 emails was most of the page's SQL (docs/benchmarks.md, mail)."""
    linked = ActivityLink.objects.filter(record_type=record.object_type, record_id=record.pk).values("activity_id")
    rows = EngagementEvent.objects.filter(email__activity_id__in=linked)
    visible = Activity.objects.restrict(user)
    if visible.query.has_filters():  # a reader who sees some activities only: those of the record
        seen = visible.filter(links__record_type=record.object_type, links__record_id=record.pk)
        rows = rows.filter(email__activity_id__in=seen.values("pk"))
    rows = rows.select_related("email").only("kind", "url", "at", "email__subject").order_by("-at", "-id")[:limit]
    return [{"kind": "engagement", "at": e.at, "object": e} for e in rows]


def decorate_sent(activities, user) -> None:
    """The counts (and a bounce) on the timeline entry of each sent message."""
    by_id = {a.pk: a for a in activities if a.kind == "email"}
    if not by_id:
        return
    emails = list(
        OutgoingEmail.objects.filter(activity_id__in=list(by_id)).only(
            "pk", "activity_id", "tracking", "bounced_at", "bounce_diagnostic"
        )
    )
    counted = tracking.counts(e.pk for e in emails if e.tracking != Tracking.OFF)
    for email in emails:
        if email.tracking == Tracking.OFF and email.bounced_at is None:
            continue
        n = counted.get(email.pk, {})
        part = {
            "template": "mail/parts/sent_email_facts.html",
            "tracking": email.tracking != Tracking.OFF,
            "tracks_clicks": email.tracking == Tracking.CLICKS,
            "opens": n.get("open", 0),
            "clicks": n.get("click", 0),
            "note": tracking.PROXY_NOTE,
            "bounced_at": email.bounced_at,
            "bounce_diagnostic": email.bounce_diagnostic,
        }
        part["html"] = facts_html(part)  # the template's HTML, without a template render per entry
        by_id[email.activity_id].timeline_parts.append(part)


def facts_html(part: dict) -> str:
    """mail/parts/sent_email_facts.html in Python (the same HTML: tests/web/test_timeline_entry_html.py)."""
    out = ['<p class="tl-mail-facts" data-mail-facts>']
    if part["tracking"]:
        out.append(format_html('<span data-opens="{0}">Opened {0}×</span>', part["opens"]))
        if part["tracks_clicks"]:
            out.append(format_html(' · <span data-clicks="{0}">clicked {0}×</span>', part["clicks"]))
        out.append(format_html(' <span class="muted" title="{}">{}</span>', part["note"], APPROXIMATE))
    if part["bounced_at"]:
        out.append(" · " if part["tracking"] else "")
        diagnostic = truncatechars(part["bounce_diagnostic"], 200)
        out.append(format_html(BOUNCED, diagnostic))
    out.append("</p>\n")
    return mark_safe("".join(out))  # every value above went through format_html
