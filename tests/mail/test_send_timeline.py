"""A run of the ``mail.send`` job writes its sent messages' timeline activities together
(crm/mail/timeline.py ``batched``): still exactly one activity per sent message, linked as one message
alone would be (its contacts, leads, their companies and open deals), each reaching webhooks as a
``record.created`` event; a message that failed has none; a timeline problem never makes a sent
message look unsent."""

import pytest

from crm.automation.models import WebhookDelivery, WebhookSubscription
from crm.mail import timeline
from crm.mail.models import EmailStatus, OutgoingEmail
from crm.records.models import Activity
from crm.records.models.deals import DealStatus
from tests.factories import CompanyFactory, ContactFactory, DealFactory, LeadFactory
from tests.mail.test_send_batch import queue_all, server  # noqa: F401 (the aiosmtpd fixture)

pytestmark = pytest.mark.django_db


def linked(activity_id) -> set[tuple[str, int]]:
    return set(Activity.objects.get(pk=activity_id).links.values_list("record_type", "record_id"))


def test_each_sent_message_gets_its_own_activity_linked_as_alone(commit, server, rep_a, monkeypatch):  # noqa: F811
    monkeypatch.setattr(timeline, "FLUSH", 2)  # several writes in one run, and a remainder at its end
    company = CompanyFactory(owner=rep_a)
    ann = ContactFactory(email="ann@example.com", owner=rep_a, company=company)
    open_deal = DealFactory(owner=rep_a, status=DealStatus.OPEN)
    won = DealFactory(owner=rep_a, status=DealStatus.WON)
    open_deal.contacts.add(ann)
    won.contacts.add(ann)
    lead = LeadFactory(email="lee@example.com", owner=rep_a)
    server.refused.add("gone@example.com")
    to = ["ann@example.com", "lee@example.com", "p1@example.com", "gone@example.com", "ann@example.com"]
    emails = queue_all(commit, rep_a, to)
    rows = {e.pk: e for e in OutgoingEmail.objects.all()}
    assert [rows[e.pk].status for e in emails] == [EmailStatus.SENT] * 3 + [EmailStatus.FAILED, EmailStatus.SENT]
    assert rows[emails[3].pk].activity_id is None  # not sent: on no timeline
    sent = [rows[e.pk] for e in emails if rows[e.pk].status == EmailStatus.SENT]
    assert len({e.activity_id for e in sent}) == 4 and Activity.objects.filter(kind="email").count() == 4
    ann_links = {("contact", ann.pk), ("company", company.pk), ("deal", open_deal.pk)}
    assert linked(rows[emails[0].pk].activity_id) == ann_links == linked(rows[emails[4].pk].activity_id)
    assert linked(rows[emails[1].pk].activity_id) == {("lead", lead.pk)}
    assert linked(rows[emails[2].pk].activity_id) == set()
    first = Activity.objects.get(pk=rows[emails[0].pk].activity_id)
    assert (first.owner_id, first.direction, first.subject) == (rep_a.pk, "outbound", "Offer 0")
    assert timeline.matched(["ann@example.com"]) == [
        {"type": "contact", "id": ann.pk},
        {"type": "company", "id": company.pk},
        {"type": "deal", "id": open_deal.pk},
    ]


def test_each_sent_message_reaches_webhooks_as_an_activity_created(commit, server, rep_a, monkeypatch):  # noqa: F811
    monkeypatch.setattr(timeline, "FLUSH", 2)
    WebhookSubscription.objects.create(
        name="timeline", url="https://hooks.example.com/x", event_types=["record.created"], object_types=["activity"]
    )
    queue_all(commit, rep_a, [f"p{i}@example.com" for i in range(5)])
    made = sorted(OutgoingEmail.objects.values_list("activity_id", flat=True))
    assert None not in made and len(set(made)) == 5
    delivered = WebhookDelivery.objects.filter(event_type="record.created", payload__object_type="activity")
    assert sorted(d.payload["object_id"] for d in delivered) == made
    assert {d.payload["data"]["subject"] for d in delivered} == {f"Offer {i}" for i in range(5)}


def test_a_timeline_failure_leaves_the_messages_sent(commit, server, rep_a, monkeypatch, caplog):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(timeline, "activity_create_many", broken)
    emails = queue_all(commit, rep_a, ["a@example.com", "b@example.com"])
    assert {OutgoingEmail.objects.get(pk=e.pk).status for e in emails} == {EmailStatus.SENT}
    assert len(server.messages) == 2 and "Could not put sent emails" in caplog.text


def test_a_message_a_killed_run_left_without_its_activity_gets_it_from_the_next_run(
    commit,
    server,  # noqa: F811
    rep_a,
    settings,
):
    """The worker died after "sent" and before its run's timeline write: the next run writes it, once;
    one sent within the last lease may still be in a live run's hands and is left to it."""
    import datetime as dt

    from django.utils import timezone

    ContactFactory(email="ann@example.com", owner=rep_a)
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.AUTOMATION_JOB_LEASE_SECONDS)
    common = {"from_email": "crm@example.com", "sender": rep_a, "status": EmailStatus.SENT, "subject": "Lost"}
    lost = OutgoingEmail.objects.create(to=["ann@example.com"], sent_at=now - lease * 2, **common)
    young = OutgoingEmail.objects.create(to=["ann@example.com"], sent_at=now, **common)
    notice = OutgoingEmail.objects.create(to=["x@example.com"], sent_at=now - lease * 2, notification=True, **common)
    queue_all(commit, rep_a, ["b@example.com"])
    lost.refresh_from_db(), young.refresh_from_db(), notice.refresh_from_db()
    assert lost.activity_id is not None and young.activity_id is None and notice.activity_id is None
    assert Activity.objects.get(pk=lost.activity_id).subject == "Lost"
    queue_all(commit, rep_a, ["c@example.com"])  # a later run: nothing written twice
    assert Activity.objects.filter(subject="Lost").count() == 1


def test_a_lost_message_is_found_however_many_were_sent_after_it(commit, server, rep_a, settings):  # noqa: F811
    """The sweep looks for sent messages without an activity, not among the newest sent only: a run that
    comes long after the crash, with more than RECENT messages sent since, still writes the lost one."""
    import datetime as dt

    from django.utils import timezone

    ContactFactory(email="ann@example.com", owner=rep_a)
    old = timezone.now() - dt.timedelta(seconds=settings.AUTOMATION_JOB_LEASE_SECONDS) * 3
    common = {"from_email": "crm@example.com", "sender": rep_a, "status": EmailStatus.SENT, "sent_at": old}
    lost = OutgoingEmail.objects.create(to=["ann@example.com"], subject="Lost long ago", **common)
    written = Activity.objects.create(subject="Written", kind="email", owner=rep_a, occurred_at=old)
    OutgoingEmail.objects.bulk_create(
        OutgoingEmail(to=["ann@example.com"], subject="Later", activity_id=written.pk, **common)
        for _ in range(timeline.RECENT + 5)
    )
    queue_all(commit, rep_a, ["b@example.com"])
    lost.refresh_from_db()
    assert lost.activity_id is not None
    assert Activity.objects.get(pk=lost.activity_id).subject == "Lost long ago"
