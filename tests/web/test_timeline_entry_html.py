"""The activity entry of the timeline, rendered in Python (crm/web/templatetags/timeline_entry.py), gives
the HTML the template gave: the old template is kept here and both render the same entries (escaping,
long bodies cut at 600 characters, line breaks, the mail parts, the meta line)."""

import datetime as dt

import pytest
from django.template import engines
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.formats import date_format

from crm.mail.models import EngagementEvent, OutgoingEmail, Tracking
from crm.mailbox.models import InboundAttachment, InboundMessage, Mailbox, MailThread
from crm.records.timeline import decorate
from crm.web.templatetags.timeline_entry import excerpt
from crm.web.templatetags.web import when
from tests.factories import ActivityFactory, ContactFactory

pytestmark = pytest.mark.django_db

OLD = """{% load web %}{% for e in entries %}{% with o=e.object %}  <li class="tl tl-{{ o.kind }}">
    <span class="tl-icon" aria-hidden="true">{{ o.kind|activity_icon }}</span>
    <div class="tl-body">
      <p class="tl-title"><strong>{{ o.get_kind_display }}</strong>{% if o.subject %}: {{ o.subject }}{% endif %}</p>
      {% if o.body %}<p class="prose">{{ o.body|truncatechars:600|linebreaksbr }}</p>{% endif %}
      {% for part in o.timeline_parts %}{% include part.template with part=part %}{% endfor %}
      <p class="tl-meta"><time datetime="{{ e.at|date:'c' }}">{{ e.at|when }}</time> · {{ o.owner|person }}\
{% if o.duration_minutes %} · {{ o.duration_minutes }} min{% endif %}{% if o.outcome %} · {{ o.outcome }}{% endif %}\
{% if o.direction %} · {{ o.direction }}{% endif %}</p>
    </div>
  </li>
{% endwith %}{% endfor %}"""
NEW = "{% load timeline_entry %}{% for e in entries %}  {% activity_entry e %}\n{% endfor %}"


def render(source, entries, user):
    request = RequestFactory().get("/")
    request.user = user
    return engines["django"].from_string(source).render({"entries": entries}, request)


def test_the_python_entry_gives_the_templates_html(admin_user):
    carl = ContactFactory(email="carl@x.com", owner=admin_user)
    now = timezone.now()
    made = [
        ActivityFactory(kind="note", subject="<b>Tom & Jerry</b>", body="a\nb\r\n<script>x</script>", contact=carl),
        ActivityFactory(kind="call", subject="", body="", duration_minutes=12, outcome="reached", contact=carl),
        ActivityFactory(kind="email", subject="Long", body="é" * 300 + "x" * 2000, direction="inbound", contact=carl),
        ActivityFactory(kind="email", subject="Exact", body="y" * 600, direction="outbound", contact=carl),
        ActivityFactory(kind="meeting", subject="Last year", body="z" * 601, owner=admin_user, contact=carl),
    ]
    # The mail parts: a received message's files, a sent message's opens and clicks and bounce.
    box = Mailbox.objects.create(name="Inbox", owner=admin_user, host="imap.example.com", username="a", password="x")
    thread = MailThread.objects.create(mailbox=box, subject="Long")
    message = InboundMessage.objects.create(
        mailbox=box, thread=thread, folder="INBOX", uid=1, message_id="<m@x>", sent_at=now, activity=made[2]
    )
    InboundAttachment.objects.create(message=message, filename="a <b>.pdf", size=2048)
    InboundAttachment.objects.create(message=message, filename="big.zip", size=10**8, skipped=True)
    sent = OutgoingEmail.objects.create(
        from_email="a@x.com",
        to=["carl@x.com"],
        subject="Exact",
        activity_id=made[3].pk,
        tracking=Tracking.CLICKS,
        bounced_at=now,
        bounce_diagnostic="550 <no such user>",
    )
    EngagementEvent.objects.create(email=sent, kind="open")
    ats = [now, now - dt.timedelta(hours=3), now - dt.timedelta(days=2), now, now - dt.timedelta(days=400)]
    entries = [{"kind": "activity", "at": at, "object": a} for at, a in zip(ats, made, strict=True)]
    decorate([e["object"] for e in entries], admin_user)
    new = render(NEW, entries, admin_user)
    assert new == render(OLD, entries, admin_user)
    # What the comparison covers is really there.
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in new and "a<br>b<br>&lt;script&gt;" in new
    assert "12 min · reached" in new and "data-received-files" in new and "a &lt;b&gt;.pdf" in new
    assert 'data-opens="1"' in new and "data-bounced" in new and "…" in new


def test_excerpt_is_truncatechars():
    from django.template.defaultfilters import truncatechars

    texts = ["", "short", "x" * 600, "x" * 601, "x" * 599 + "é\n", "é" * 5000, "e\u0301" * 700, "e\u0301" * 3]
    texts += ["word " * 400, "a" * 550 + "\u0301" * 700 + "b" * 100, "e\u0301" * 1500, "\u0301" * 1300 + "x"]
    texts += ["x" * 596 + "…" + "y" * 10, "ab" * 700]
    for language in ("en", "de", "ja"):  # the cut's ellipsis is looked up once per language
        with translation.override(language):
            for text in texts:
                assert excerpt(text) == truncatechars(text, 600)


def test_when_is_date_format(settings):
    settings.TIME_ZONE = "Europe/Oslo"
    now = timezone.now()
    for value in [now, now - dt.timedelta(days=3), now - dt.timedelta(days=800), dt.datetime(2020, 1, 5, 7, 3)]:
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        this_year = local.year == timezone.localdate().year
        assert when(value) == date_format(local, "M j, H:i" if this_year else "M j Y, H:i")


def test_a_page_reading_only_the_body_head_gives_the_same_entries(admin_user, rep_a):
    """The record page reads the first HEAD characters of each body in SQL (crm/records/timeline.py
    ``body_head``); the entries are those of the whole body, even when the head has too many combining
    characters to cut (the body is then read, through the reader's permissions)."""
    from crm.records.timeline import timeline
    from crm.web.templatetags.timeline_entry import HEAD

    carl = ContactFactory(email="carl@x.com", owner=rep_a)
    bodies = ["x" * 5000, "e\u0301" * 3000, "a" * 550 + "\u0301" * 1300 + "b" * 700, "é" * 1201, "short", ""]
    for n, body in enumerate(bodies):
        ActivityFactory(kind="email", subject=f"S{n}", body=body, owner=rep_a, contact=carl)
    for user in (admin_user, rep_a):
        whole = timeline(carl, user, kinds=("activity",))
        head = timeline(carl, user, kinds=("activity",), body_head=HEAD)
        assert len(head) == len(bodies) and all(len(e["object"].body_head) <= HEAD for e in head)
        assert render(NEW, head, user) == render(NEW, whole, user) == render(OLD, whole, user)


@pytest.mark.parametrize("tracking", ["off", "opens", "clicks"])
@pytest.mark.parametrize("bounce", [None, "550 <no such user> & " + "x" * 300])
def test_the_sent_facts_in_python_are_the_templates_html(tracking, bounce):
    from django.template.loader import render_to_string

    from crm.mail import engagement

    part = {
        "tracking": tracking != "off",
        "tracks_clicks": tracking == "clicks",
        "opens": 1234,
        "clicks": 7,
        "note": 'a "note" <here>',
        "bounced_at": timezone.now() if bounce else None,
        "bounce_diagnostic": bounce or "",
    }
    assert engagement.facts_html(part) == render_to_string("mail/parts/sent_email_facts.html", {"part": part})
