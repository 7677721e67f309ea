"""Outbound webhooks against a real receiver on 127.0.0.1; signatures, retries, disabling, SSRF."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from crm.audit.models import ObjectChange
from crm.automation import jobs, ssrf, webhooks
from crm.automation.models import Job, Notification, WebhookDelivery, WebhookSubscription
from crm.records.services.leads import lead_create

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server in a thread that records requests and answers with ``status``."""

    def __init__(self):
        self.requests = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    r = Receiver()
    yield r
    r.close()


def subscribe(url, **kw):
    return WebhookSubscription.objects.create(name="crm-sync", url=url, **kw)


def test_delivery_is_signed_and_verifiable(receiver, rep_a, commit):
    sub = subscribe(receiver.url, event_types=["record.created"], object_types=["lead"])
    with commit():
        lead = lead_create(actor=rep_a, data={"last_name": "Hook"}).obj
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    payload = json.loads(body)
    assert payload["type"] == "record.created" and payload["object_id"] == lead.pk
    assert payload["data"]["last_name"] == "Hook" and payload["id"] == headers["X-CRM-Delivery"]
    ts, sig = headers["X-CRM-Timestamp"], headers["X-CRM-Signature"]
    assert webhooks.verify(sub.secret, ts, body, sig)
    assert not webhooks.verify(sub.secret, ts, body + b" ", sig)  # tampered body
    assert not webhooks.verify("other", ts, body, sig)
    assert not webhooks.verify(sub.secret, ts, body, sig, now=time.time() + 3600)  # replayed an hour later
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and delivery.response_status == 200


def test_unsubscribed_events_are_not_sent(receiver, rep_a, commit):
    subscribe(receiver.url, event_types=["deal.won"])
    with commit():
        lead_create(actor=rep_a, data={"last_name": "x"})
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_failures_retry_with_backoff_then_disable_and_tell_admins(receiver, rep_a, admin_user, commit, monkeypatch):
    monkeypatch.setattr(webhooks, "DISABLE_AFTER", 2)
    receiver.status = 500
    sub = subscribe(receiver.url)
    for name in ("a", "b"):
        with commit():
            lead_create(actor=rep_a, data={"last_name": name})
        for _ in range(webhooks.MAX_ATTEMPTS - 1):
            job = Job.objects.filter(kind="webhook.deliver", status="pending").get()
            assert jobs.run(job.pk, now=job.run_at) in ("retry", "done")
    assert len(receiver.requests) == 2 * webhooks.MAX_ATTEMPTS
    assert [(d.attempts, d.status) for d in WebhookDelivery.objects.all()] == [(webhooks.MAX_ATTEMPTS, "failed")] * 2
    assert jobs.backoff(2) == 2 * jobs.backoff(1)  # exponential
    sub.refresh_from_db()
    assert not sub.enabled and "2 failed deliveries" in sub.disabled_reason
    assert Notification.objects.filter(user=admin_user, title__contains="crm-sync").exists()
    # Disabled through the service, by the system: in the change log like an admin's change.
    [entry] = ObjectChange.objects.filter(object_type="webhook", object_id=sub.pk, action="update")
    assert (entry.user_name, entry.source) == ("automation", "system")
    assert entry.changes == {"enabled": [True, False], "disabled_reason": ["", sub.disabled_reason]}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.5.5/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/x",
        "http://[::ffff:127.0.0.1]:9/x",
        "http://0.0.0.0:9/x",
        "ftp://example.com/x",
    ],
)
def test_ssrf_guard_refuses_before_connecting(url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ssrf.Refused):
        ssrf.check_url(url)


def test_refused_delivery_is_logged_not_retried(rep_a, commit, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    WebhookSubscription.objects.create(name="evil", url="http://127.0.0.1:9/x")
    with commit():
        lead_create(actor=rep_a, data={"last_name": "x"})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "loopback" in delivery.error
    assert Job.objects.get(kind="webhook.deliver").status == "done"


def test_webhook_api_refuses_private_literals_and_shows_secret_once(api, admin_user, rep_a, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = api(admin_user)
    for url in ("http://127.0.0.1/x", "http://169.254.169.254/", "http://localhost/x"):
        r = client.post("/automation/webhooks", {"name": "x", "url": url})
        assert r.status_code == 422 and "url" in r.json()["error"]["fields"], url
    r = client.post("/automation/webhooks", {"name": "x", "url": "https://example.com/h", "event_types": ["bogus"]})
    assert r.status_code == 422
    r = client.post("/automation/webhooks", {"name": "x", "url": "https://example.com/h", "event_types": ["deal.won"]})
    assert r.status_code == 201 and len(r.json()["secret"]) > 20
    sub_id = r.json()["id"]
    assert "secret" not in client.get("/automation/webhooks").json()[0]
    assert client.get(f"/automation/webhooks/{sub_id}/deliveries").json() == []
    assert api(rep_a).get("/automation/webhooks").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 101}, "name"),  # PostgreSQL: value too long
        ({"name": "Nul\x00"}, "name"),  # PostgreSQL refuses NUL in text
        ({"url": "https://example.com/" + "a" * 500}, "url"),
        ({"url": "https://example.com/\x00"}, "url"),
        ({"url": "http://[::1/hook"}, "url"),  # urlsplit raised ValueError
        ({"url": "https://example.com:99999/"}, "url"),
        ({"object_types": ["bogus"]}, "object_types"),
    ],
)
def test_webhook_create_refuses_bad_values_naming_the_field(api, admin_user, body, field):
    r = api(admin_user).post("/automation/webhooks", {"name": "x", "url": "https://example.com/h", **body})
    assert r.status_code == 422, r.content
    assert list(r.json()["error"]["fields"]) == [field]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),  # NOT NULL constraint: a 500
        ({"event_types": None}, "event_types"),
        ({"object_types": None}, "object_types"),
        ({"enabled": None}, "enabled"),
        ({"name": "n" * 101}, "name"),
        ({"url": "https://example.com/" + "a" * 500}, "url"),
        ({"url": "https://example.com/\x00"}, "url"),
        ({"object_types": ["bogus"]}, "object_types"),
    ],
)
def test_webhook_update_refuses_bad_values_and_keeps_the_subscription(api, admin_user, body, field):
    sub = subscribe("https://example.com/h", event_types=["deal.won"])
    r = api(admin_user).patch(f"/automation/webhooks/{sub.pk}", body)
    assert r.status_code == 422, r.content
    assert list(r.json()["error"]["fields"]) == [field]
    kept = WebhookSubscription.objects.get(pk=sub.pk)
    assert (kept.name, kept.url, kept.event_types, kept.enabled) == ("crm-sync", sub.url, ["deal.won"], True)


def test_webhook_writes_are_in_the_change_log_without_the_secret(api, admin_user):
    from crm.audit.models import ObjectChange

    client = api(admin_user)
    r = client.post("/automation/webhooks", {"name": "Zap", "url": "https://example.com/h"})
    sub_id, secret = r.json()["id"], r.json()["secret"]
    assert client.patch(f"/automation/webhooks/{sub_id}", {"name": "Zapier"}).status_code == 200
    assert client.delete(f"/automation/webhooks/{sub_id}").status_code == 204
    rows = list(ObjectChange.objects.filter(object_type="webhook", object_id=sub_id).order_by("id"))
    assert [row.action for row in rows] == ["create", "update", "delete"]
    assert {(row.user_id, row.source) for row in rows} == {(admin_user.pk, "api")}
    assert rows[0].changes["url"] == [None, "https://example.com/h"]
    assert rows[1].changes == {"name": ["Zap", "Zapier"]}
    assert rows[2].changes["name"] == ["Zapier", None]
    assert all(secret not in json.dumps(row.changes) and "secret" not in row.changes for row in rows)


def test_webhook_services_refuse_non_admins_and_write_nothing(rep_a):
    from crm.audit.models import ObjectChange
    from crm.core.errors import PermissionDenied

    sub = subscribe("https://example.com/h")
    with pytest.raises(PermissionDenied):
        webhooks.webhook_create(actor=rep_a, data={"name": "x", "url": "https://example.com/x"})
    with pytest.raises(PermissionDenied):
        webhooks.webhook_update(sub, actor=rep_a, data={"url": "https://evil.example/steal"})
    with pytest.raises(PermissionDenied):
        webhooks.webhook_delete(sub, actor=rep_a)
    assert list(WebhookSubscription.objects.values_list("url", flat=True)) == ["https://example.com/h"]
    assert not ObjectChange.objects.filter(object_type="webhook").exists()


# --- field rules: a subscription's role shapes its payloads -----------------------------------------


@pytest.fixture
def feed_role(db):
    from crm.access.models import Role

    return Role.objects.create(name="Partner feed", slug="partner-feed", field_access={"lead": {"email": "hidden"}})


def test_a_field_hidden_from_the_subscriptions_role_is_left_out_and_an_unrestricted_one_is_unchanged(
    receiver, rep_a, commit, feed_role
):
    from crm.records.services.leads import lead_update

    shaped = subscribe(receiver.url, object_types=["lead"], role=feed_role)
    full = subscribe(receiver.url.replace("/hook", "/full"), object_types=["lead"])
    with commit():
        lead = lead_create(actor=rep_a, data={"last_name": "Hook", "email": "zqhidden@example.org"}).obj
    with commit():
        lead_update(lead, actor=rep_a, data={"email": "zqnew@example.org", "title": "CTO"})
    sent = {}
    for headers, body in receiver.requests:
        sent.setdefault(headers["X-CRM-Delivery"], json.loads(body))
    by_sub = {(d.subscription_id, d.event_type): sent[str(d.event_id)] for d in WebhookDelivery.objects.all()}
    assert len(by_sub) == 4 and WebhookDelivery.objects.filter(status="succeeded").count() == 4
    created, updated = by_sub[(shaped.pk, "record.created")], by_sub[(shaped.pk, "record.updated")]
    assert "email" not in created["data"] and created["data"]["last_name"] == "Hook"
    assert "email" not in updated["data"] and "email" not in updated["changes"]
    assert updated["changes"]["title"][1] == "CTO"
    assert "zq" not in json.dumps([created, updated])
    # No role: the admin feed, every field as before.
    full_created, full_updated = by_sub[(full.pk, "record.created")], by_sub[(full.pk, "record.updated")]
    assert full_created["data"]["email"] == "zqhidden@example.org"
    assert full_updated["changes"]["email"] == ["zqhidden@example.org", "zqnew@example.org"]
    # The delivery log keeps what was sent: the shaped payload holds no hidden value either.
    assert "zq" not in json.dumps([d.payload for d in WebhookDelivery.objects.filter(subscription=shaped)])


def test_an_admin_role_sends_every_field(receiver, rep_a, commit):
    from crm.access.models import Role

    admin_role = Role.objects.get(slug="admin")
    admin_role.field_access = {"lead": {"email": "hidden"}}  # ignored: admins have no field rules
    subscribe(receiver.url, object_types=["lead"], role=admin_role)
    with commit():
        lead_create(actor=rep_a, data={"last_name": "Hook", "email": "zqadmin@example.org"})
    assert json.loads(receiver.requests[0][1])["data"]["email"] == "zqadmin@example.org"


def test_the_api_sets_checks_and_clears_the_role(api, admin_user, feed_role, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client = api(admin_user)
    r = client.post("/automation/webhooks", {"name": "x", "url": "https://example.com/h", "role_id": feed_role.pk})
    assert r.status_code == 201 and r.json()["role_id"] == feed_role.pk
    pk = r.json()["id"]
    assert WebhookSubscription.objects.get(pk=pk).role_id == feed_role.pk
    r = client.post("/automation/webhooks", {"name": "y", "url": "https://example.com/h", "role_id": 999999})
    assert r.status_code == 422 and "role_id" in r.json()["error"]["fields"]
    assert WebhookSubscription.objects.count() == 1
    r = client.patch(f"/automation/webhooks/{pk}", {"role_id": 999999})
    assert r.status_code == 422 and WebhookSubscription.objects.get(pk=pk).role_id == feed_role.pk
    r = client.patch(f"/automation/webhooks/{pk}", {"role_id": None})
    assert r.status_code == 200 and r.json()["role_id"] is None
    assert WebhookSubscription.objects.get(pk=pk).role_id is None
    r = client.post("/automation/webhooks", {"name": "z", "url": "https://example.com/h"})
    assert r.status_code == 201 and r.json()["role_id"] is None  # a new subscription: the admin feed
    change = ObjectChange.objects.filter(object_type="webhook", object_id=pk, action="update").latest("id")
    assert change.changes["role_id"] == [feed_role.pk, None]


def test_the_admin_form_offers_the_roles_and_all_fields(feed_role, settings):
    from django.contrib.auth.models import User
    from django.test import Client

    settings.WEBHOOKS_ALLOW_PRIVATE = False
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    page = admin.get("/admin/automation/webhooksubscription/add/").content.decode()
    assert "All fields (admin feed)" in page and "Partner feed" in page
    base = {"name": "Feed", "url": "https://example.com/h", "event_types": "[]", "object_types": "[]", "enabled": "on"}
    r = admin.post("/admin/automation/webhooksubscription/add/", {**base, "role": str(feed_role.pk)})
    assert r.status_code == 302
    sub = WebhookSubscription.objects.get()
    assert sub.role_id == feed_role.pk
    r = admin.post(f"/admin/automation/webhooksubscription/{sub.pk}/change/", {**base, "role": ""})
    assert r.status_code == 302 and WebhookSubscription.objects.get().role_id is None


def test_deleting_the_role_disables_its_subscriptions_rather_than_widening_them(admin_user, feed_role):
    from crm.access.services import role_delete

    sub = subscribe("https://example.com/h", role=feed_role)
    other = subscribe("https://example.com/o")
    role_delete(feed_role, actor=admin_user)
    sub.refresh_from_db()
    other.refresh_from_db()
    assert (sub.enabled, sub.role_id) == (False, None) and "Partner feed" in sub.disabled_reason
    assert other.enabled
