"""Retention policies: a dry-run report first, then the scheduled run deletes or anonymizes what is
past its time, through the services, with the change-log values scrubbed; validation and admins only."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.audit.models import ObjectChange
from crm.automation import scheduler
from crm.automation.models import Schedule
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.privacy import retention
from crm.privacy.models import ErasureLog, RetentionPolicy
from crm.records.models import Contact, Deal, Lead
from crm.records.services.activities import activity_create
from crm.records.services.contacts import contact_create
from crm.records.services.deals import deal_create
from crm.records.services.leads import lead_create

pytestmark = pytest.mark.django_db
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


def in_status(obj, status: str):
    """The record in ``status`` (set directly: how a lead is disqualified or a deal lost is not the point)."""
    type(obj).objects.filter(pk=obj.pk).update(status=status)
    return obj


def aged(obj, months: int, field: str = "updated_at"):
    type(obj).objects.filter(pk=obj.pk).update(**{field: timezone.now() - dt.timedelta(days=31 * months)})
    return obj


@pytest.fixture
def leads(boss):
    old = aged(lead_create(actor=boss, data={"last_name": "Old", "email": "old@example.org"}).obj, 25)
    fresh = lead_create(actor=boss, data={"last_name": "Fresh", "email": "fresh@example.org"}).obj
    activity_create(
        actor=boss, data={"kind": "note", "subject": "Old lead note", "links": [{"type": "lead", "id": old.pk}]}
    )
    return old, fresh


def test_policies_are_checked_and_admins_only(boss, rep_a):
    with pytest.raises(ValidationFailed) as exc:
        retention.policy_create(actor=boss, data={"object_type": "spaceships", "action": "delete", "months": 24})
    assert "object_type" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        retention.policy_create(actor=boss, data={"object_type": "deal", "action": "anonymize", "months": 24})
    assert "can only be deleted" in exc.value.fields["action"]
    with pytest.raises(ValidationFailed):
        retention.policy_create(actor=boss, data={"object_type": "lead", "action": "delete", "months": 0})
    with pytest.raises(PermissionDenied):
        retention.policy_create(actor=rep_a, data={"object_type": "lead", "action": "delete", "months": 24})
    assert not RetentionPolicy.objects.exists()
    policy = retention.policy_create(actor=boss, data={"object_type": "leads", "action": "delete", "months": 24})
    assert policy.object_type == "lead"  # a slug is read as its type
    assert Schedule.objects.get(key="privacy.retention").job_kind == "privacy.retention"
    assert ObjectChange.objects.filter(object_type="privacy_retention", object_id=policy.pk).exists()


def test_dry_run_reports_and_writes_nothing(boss, leads, capsys):
    old, fresh = leads
    retention.policy_create(actor=boss, data={"object_type": "lead", "action": "delete", "months": 24})
    (row,) = retention.report()
    assert (row["count"], row["sample"], row["action"]) == (1, [old.pk], "delete")
    call_command("privacy", "retention", "--user", "boss")
    assert "delete 1 lead records" in capsys.readouterr().out
    assert Lead.objects.count() == 2 and not ErasureLog.objects.exists()


def test_the_scheduled_run_deletes_what_is_past_its_time(boss, leads, settings, django_capture_on_commit_callbacks):
    old, fresh = leads
    settings.TASKS = IMMEDIATE
    retention.policy_create(actor=boss, data={"object_type": "lead", "action": "delete", "months": 24})
    Schedule.objects.filter(key="privacy.retention").update(next_run_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler.tick()["schedules"] == 1
    assert list(Lead.objects.all()) == [fresh]
    entry = ErasureLog.objects.get()
    assert entry.source == "retention" and entry.counts["lead"] == 1 and entry.counts["activity"] == 1
    assert entry.user.username == "automation" and not entry.blocked
    log = json.dumps(list(ObjectChange.objects.filter(object_type="lead", object_id=old.pk).values("changes")))
    assert "old@example.org" not in log
    assert retention.report()[0]["count"] == 0


def test_anonymize_contacts_created_long_ago(boss):
    old = contact_create(
        actor=boss,
        data={"first_name": "Olga", "last_name": "Old", "email": "olga@example.org", "phone": "+14155550199"},
    ).obj
    aged(old, 40, "created_at")
    keep = contact_create(actor=boss, data={"first_name": "New", "email": "new@example.org"}).obj
    retention.policy_create(
        actor=boss, data={"object_type": "contact", "action": "anonymize", "months": 36, "field": "created_at"}
    )
    (done,) = retention.run(actor=boss)
    assert done["counts"]["contact_anonymized"] == 1
    old.refresh_from_db()
    assert (old.name, old.email, old.phone, list(old.emails.all())) == ("Erased person", "", "", [])
    assert Contact.objects.get(pk=keep.pk).email == "new@example.org"
    log = json.dumps(list(ObjectChange.objects.filter(object_type="contact", object_id=old.pk).values("changes")))
    assert "olga@example.org" not in log and "Olga" not in log
    assert retention.run(actor=boss)[0]["counts"] == {}  # not anonymized twice


def test_api_policies_and_report(api, boss, rep_a, leads):
    r = api(boss).post("/privacy/retention-policies", {"object_type": "lead", "action": "delete", "months": 24})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert api(boss).get("/privacy/retention-report").json()[0]["count"] == 1
    assert api(rep_a).get("/privacy/retention-report").status_code == 403
    assert api(rep_a).get("/privacy/retention-policies").status_code == 403
    r = api(boss).patch(f"/privacy/retention-policies/{pk}", {"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert api(boss).get("/privacy/retention-report").json() == []
    assert api(boss).delete(f"/privacy/retention-policies/{pk}").status_code == 204
    assert api(boss).delete(f"/privacy/retention-policies/{pk}").status_code == 404


# --- a condition beyond age: the type's status --------------------------------------------------


@pytest.fixture
def stale_leads(boss):
    """Three leads untouched for 25 months, one disqualified; a fresh disqualified one."""
    old = [
        aged(in_status(lead_create(actor=boss, data={"last_name": name}).obj, status), 25)
        for name, status in (("Gone", "disqualified"), ("Working", "working"), ("New", "new"))
    ]
    fresh = in_status(lead_create(actor=boss, data={"last_name": "Recent"}).obj, "disqualified")
    return old, fresh


def test_a_status_condition_is_one_of_the_types_status_values(boss):
    with pytest.raises(ValidationFailed) as exc:
        retention.policy_create(
            actor=boss, data={"object_type": "lead", "action": "delete", "months": 24, "status": "lost"}
        )
    assert "disqualified" in exc.value.fields["status"]  # the valid values are named
    with pytest.raises(ValidationFailed) as exc:
        retention.policy_create(
            actor=boss, data={"object_type": "product", "action": "delete", "months": 24, "status": "open"}
        )
    assert "by age only" in exc.value.fields["status"]
    assert not RetentionPolicy.objects.exists()
    policy = retention.policy_create(
        actor=boss, data={"object_type": "contact", "action": "delete", "months": 24, "status": "subscriber"}
    )
    assert policy.status == "subscriber"  # a contact's lifecycle stage
    with pytest.raises(ValidationFailed):
        retention.policy_update(policy, actor=boss, data={"status": "won"})
    assert retention.policy_update(policy, actor=boss, data={"status": None}).status == ""


def test_dry_run_and_run_apply_only_to_the_status(boss, stale_leads, capsys):
    (gone, working, new), fresh = stale_leads
    retention.policy_create(
        actor=boss, data={"object_type": "lead", "action": "delete", "months": 24, "status": "disqualified"}
    )
    (row,) = retention.report()
    assert (row["count"], row["sample"], row["status"]) == (1, [gone.pk], "disqualified")
    call_command("privacy", "retention", "--user", "boss")
    assert "delete 1 lead records in status disqualified" in capsys.readouterr().out
    (done,) = retention.run(actor=boss)
    assert done["counts"]["lead"] == 1
    assert set(Lead.objects.values_list("pk", flat=True)) == {working.pk, new.pk, fresh.pk}


def test_won_and_lost_deals(boss, pipeline):
    deals = {
        status: aged(in_status(deal_create(actor=boss, data={"name": status}).obj, status), 40)
        for status in ("open", "won", "lost")
    }
    retention.policy_create(
        actor=boss, data={"object_type": "deal", "action": "delete", "months": 36, "status": "lost"}
    )
    assert retention.report()[0]["sample"] == [deals["lost"].pk]
    retention.run(actor=boss)
    assert set(Deal.objects.values_list("status", flat=True)) == {"open", "won"}


def test_api_status_condition(api, boss, stale_leads):
    (gone, _working, _new), _fresh = stale_leads
    body = {"object_type": "lead", "action": "delete", "months": 24, "status": "lost"}
    r = api(boss).post("/privacy/retention-policies", body)
    assert r.status_code == 422 and "disqualified" in json.dumps(r.json())  # a service validation error
    r = api(boss).post("/privacy/retention-policies", {**body, "status": "disqualified"})
    assert r.status_code == 201 and r.json()["status"] == "disqualified"
    (row,) = api(boss).get("/privacy/retention-report").json()
    assert (row["sample"], row["status"]) == ([gone.pk], "disqualified")
    pk = r.json()["id"]
    assert api(boss).patch(f"/privacy/retention-policies/{pk}", {"status": "won"}).status_code == 422
    r = api(boss).patch(f"/privacy/retention-policies/{pk}", {"status": ""})
    assert r.status_code == 200 and r.json()["status"] == ""
    assert api(boss).get("/privacy/retention-report").json()[0]["count"] == 3


def test_the_web_page_lists_adds_and_deletes_policies(web, boss, rep_a, stale_leads):
    from django.urls import reverse

    url = reverse("privacy-settings:retention")
    assert web(rep_a).get(url).status_code == 403
    page = web(boss).get(url)
    assert page.status_code == 200 and "disqualified" in page.content.decode()  # the statuses per type
    body = {"object_type": "lead", "action": "delete", "months": "24", "field": "updated_at", "status": "lost"}
    r = web(boss).post(url, body)
    assert r.status_code == 422 and "not a lead status" in r.content.decode()
    assert not RetentionPolicy.objects.exists()
    r = web(boss).post(url, {**body, "status": "disqualified"})
    assert r.status_code == 302
    policy = RetentionPolicy.objects.get()
    assert policy.status == "disqualified"
    assert "<td>1</td>" in web(boss).get(url).content.decode()  # the dry run: one lead due
    web(boss).post(reverse("privacy-settings:retention-delete", args=[policy.pk]))
    assert not RetentionPolicy.objects.exists()
