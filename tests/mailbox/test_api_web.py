"""/api/v1/mailboxes and /settings/mailboxes/: who sees which mailbox, no password in any output,
clear refusals, "sync now" through the worker, the imported mail on a record page."""

import pytest
from django.utils import timezone

from crm.automation import jobs
from crm.mailbox.models import Mailbox
from tests.factories import ContactFactory
from tests.mailbox import messages as m
from tests.mailbox.conftest import PASSWORD, USER

pytestmark = pytest.mark.django_db

BODY = {"name": "Inbox", "host": "imap.example.com", "username": "rep@example.com", "password": "s3cret-app"}


def test_api_connect_list_change_without_the_password(api, rep_a, rep_b, admin_user):
    created = api(rep_a).post("/mailboxes", BODY)
    assert created.status_code == 201, created.content
    out = created.json()
    assert "password" not in out and out["has_password"] is True and b"s3cret" not in created.content
    assert out["folders"] == ["INBOX"] and out["security"] == "tls" and out["port"] == 993
    assert out["owner_id"] == rep_a.pk and out["shared"] is False
    pk = out["id"]
    assert [b["id"] for b in api(rep_a).get("/mailboxes").json()] == [pk]
    assert api(rep_b).get("/mailboxes").json() == []
    assert api(rep_b).get(f"/mailboxes/{pk}").status_code == 404
    assert api(rep_b).patch(f"/mailboxes/{pk}", {"paused": True}).status_code == 404
    assert api(admin_user).get(f"/mailboxes/{pk}").status_code == 200
    changed = api(rep_a).patch(f"/mailboxes/{pk}", {"folders": ["INBOX", "Sent"], "paused": True})
    assert changed.status_code == 200 and changed.json()["folders"] == ["INBOX", "Sent"]
    assert api(rep_a).post(f"/mailboxes/{pk}/sync", {}).status_code == 409  # paused
    assert api(rep_a).delete(f"/mailboxes/{pk}").status_code == 204
    assert not Mailbox.objects.exists()


def test_api_bad_input_is_a_clear_422(api, rep_a):
    bad = api(rep_a).post("/mailboxes", {**BODY, "host": "bad host!", "port": 0, "folders": []})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"].keys() >= {"host", "port", "folders"}
    assert api(rep_a).post("/mailboxes", {**BODY, "password": ""}).status_code == 422


def test_only_admins_connect_a_shared_inbox(api, rep_a, admin_user):
    assert api(rep_a).post("/mailboxes", {**BODY, "shared": True}).status_code == 403
    shared = api(admin_user).post("/mailboxes", {**BODY, "shared": True})
    assert shared.status_code == 201 and shared.json()["shared"] is True and shared.json()["owner_id"] is None
    assert api(rep_a).get("/mailboxes").json() == []


def test_sync_now_runs_in_the_worker_and_the_mail_reaches_the_record_page(api, web, rep_a, dovecot, fill):
    carl = ContactFactory(first_name="Carl", email="carl@clientco.com", owner=rep_a)
    fill(m.world(timezone.now()))
    body = {**BODY, "host": dovecot.host, "port": dovecot.port, "security": "none", "username": USER}
    pk = api(rep_a).post("/mailboxes", {**body, "password": PASSWORD}).json()["id"]
    queued = api(rep_a).post(f"/mailboxes/{pk}/sync", {})
    assert queued.status_code == 202
    assert jobs.run(queued.json()["job_id"]) == "done"
    state = api(rep_a).get(f"/mailboxes/{pk}").json()
    assert state["imported_count"] == 4 and state["last_error"] == "" and state["last_sync_at"]
    threads = api(rep_a).get(f"/mailboxes/{pk}/threads").json()
    assert {"subject": "Pricing for 2027", "message_count": 3}.items() <= next(
        t for t in threads if t["subject"] == "Pricing for 2027"
    ).items()
    page = api(rep_a).get(f"/mailboxes/{pk}/messages?limit=2").json()
    assert len(page["items"]) == 2 and page["next"]
    html = web(rep_a).get(f"/contacts/{carl.pk}/").content.decode()
    assert "Pricing for 2027" in html and "The contract" in html


def test_web_page_connect_pause_resume_and_errors(web, rep_a, rep_b):
    client = web(rep_a)
    assert client.get("/settings/mailboxes/").status_code == 200
    refused = client.post("/settings/mailboxes/", {**BODY, "action": "connect", "host": "no way", "port": "993"})
    assert refused.status_code == 422 and "host" in refused.content.decode()
    done = client.post("/settings/mailboxes/", {**BODY, "action": "connect", "port": "993", "folders": "INBOX, Sales"})
    assert done.status_code == 302
    box = Mailbox.objects.get()
    assert box.folders == ["INBOX", "Sales"] and box.owner_id == rep_a.pk and box.password == "s3cret-app"
    page = client.get("/settings/mailboxes/").content.decode()
    assert "s3cret-app" not in page and "INBOX, Sales" in page
    client.post("/settings/mailboxes/", {"action": "pause", "id": box.pk})
    box.refresh_from_db()
    assert box.paused
    client.post("/settings/mailboxes/", {"action": "resume", "id": box.pk})
    box.refresh_from_db()
    assert not box.paused
    # Another rep cannot act on it: 404.
    assert web(rep_b).post("/settings/mailboxes/", {"action": "pause", "id": box.pk}).status_code == 404


def test_the_page_has_no_inline_script_or_style(web, admin_user):
    from tests.test_hardening import inline_code

    Mailbox.objects.create(name="Shared", host="imap.example.com", username="sales@example.com", password="x")
    page = web(admin_user).get("/settings/mailboxes/")
    assert page.status_code == 200 and inline_code(page.content.decode()) == []
    assert "shared" in page.content.decode()
