"""The bell (unread count) and the notifications page: mine only, mark read, records linked."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.automation.models import Notification
from crm.automation.notifications import notify

HTMX = {"HTTP_HX_REQUEST": "true"}


def _notes(user, n, obj=None):
    return [notify(user, "system", f"{user.username} note {i}", obj=obj) for i in range(n)]


def test_bell_counts_only_my_unread(web, rep_a, rep_b):
    mine = _notes(rep_a, 3)
    Notification.objects.filter(pk=mine[0].pk).update(read_at=mine[0].created_at)
    _notes(rep_b, 5)
    page = web(rep_a).get("/notifications/bell/").content.decode()
    assert 'aria-label="Notifications: 2 unread"' in page
    assert 'aria-label="Notifications: 5 unread"' in web(rep_b).get("/notifications/bell/").content.decode()


def test_bell_without_notifications_says_none(web, rep_a, rep_b):
    _notes(rep_b, 2)
    page = web(rep_a).get("/notifications/bell/").content.decode()
    assert 'aria-label="Notifications: 0 unread"' in page and "badge" not in page


def test_bell_costs_one_notification_query(web, rep_a):
    _notes(rep_a, 4)
    client = web(rep_a)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/notifications/bell/", **HTMX).status_code == 200
    touching = [q["sql"] for q in ctx.captured_queries if "automation_notification" in q["sql"]]
    assert len(touching) == 1 and "COUNT(" in touching[0].upper()


def test_layout_polls_the_bell(web, rep_a):
    page = web(rep_a).get("/").content.decode()
    assert 'hx-get="/notifications/bell/"' in page and 'hx-trigger="load, every 60s' in page


def test_logged_out_bell_swaps_nothing(db):
    assert Client().get("/notifications/bell/").status_code == 204
    assert Client().get("/notifications/").status_code == 302


def test_page_lists_mine_newest_first_with_record_links(web, rep_a, rep_b, lead_x):
    notify(rep_a, "assignment", "Older one")
    notify(rep_a, "assignment", "Newer one", obj=lead_x)
    notify(rep_b, "system", "Not for rep_a")
    page = web(rep_a).get("/notifications/").content.decode()
    assert page.index("Newer one") < page.index("Older one")
    assert "Not for rep_a" not in page
    assert f'href="/leads/{lead_x.pk}/"' in page
    assert "Mark all read" in page


def test_mark_one_read(web, rep_a):
    first, second = _notes(rep_a, 2)
    r = web(rep_a).post(f"/notifications/{first.pk}/read/", **HTMX)
    assert r.status_code == 200 and r["HX-Trigger"] == "notifications-changed"
    assert "Mark read" not in r.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    r = web(rep_a).post(f"/notifications/{second.pk}/read/", {"next": "/notifications/?unread=1"})
    assert r.status_code == 302 and r["Location"] == "/notifications/?unread=1"
    assert Notification.objects.get(pk=second.pk).read_at is not None


def test_cannot_mark_someone_elses_read(web, rep_a, rep_b):
    (theirs,) = _notes(rep_b, 1)
    assert web(rep_a).post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_touches_only_mine(web, rep_a, rep_b):
    _notes(rep_a, 3)
    _notes(rep_b, 2)
    r = web(rep_a).post("/notifications/read/")
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    assert not Notification.objects.filter(user=rep_a, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=rep_b, read_at__isnull=True).count() == 2


def test_marking_read_needs_post_and_csrf(web, rep_a):
    (note,) = _notes(rep_a, 1)
    assert web(rep_a).get(f"/notifications/{note.pk}/read/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep_a)
    assert strict.post(f"/notifications/{note.pk}/read/").status_code == 403
    assert strict.post("/notifications/read/").status_code == 403
    assert Notification.objects.get(pk=note.pk).read_at is None
