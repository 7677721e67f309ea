"""Sign-in security: failed sign-ins lock a username+IP pair out for a cool-off (web login, admin login
and a second factor's failures alike), admins lift lockouts with an audit row, passwords meet the
policy on every path, sessions end when too old, idle or signed out everywhere."""

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings as conf
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.test import Client, RequestFactory
from freezegun import freeze_time

from crm.access import accounts, lockouts, sessions
from crm.access.models import ApiToken
from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes or ask an admin to unlock your account."
WRONG = "not-the-Password-9"
NEW = "a-Long-new-pass-42"


def login(client, password="pw", username="rep_a", path="/login/"):
    return client.post(path, {"username": username, "password": password})


def fail(times, client=None, username="rep_a", path="/login/"):
    client = client or Client()
    return [login(client, WRONG, username, path).status_code for _ in range(times)]


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def change_log(object_type, object_id):
    rows = ObjectChange.objects.filter(object_type=object_type, object_id=object_id).order_by("id")
    return [(r.user_name, r.changes) for r in rows]


@pytest.fixture
def staff_admin(admin_user):
    """An admin who may open Django's admin (its screens check Django's permissions too)."""
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    return admin_user


# --- Lockout ------------------------------------------------------------------------------------


def test_the_fifth_failure_locks_the_pair_out_and_the_right_password_is_refused(rep_a):
    assert fail(4) == [200] * 4
    r = login(Client(), WRONG)
    assert r.status_code == 429 and LOCKED in r.content.decode()
    client = Client()
    r = login(client, "pw")
    assert r.status_code == 429 and "Too many failed sign-in attempts" in r.content.decode()
    assert not signed_in(client)


def test_another_ip_and_another_username_are_not_locked(rep_a, rep_b):
    fail(5)
    assert login(Client(REMOTE_ADDR="10.1.2.3")).status_code == 302
    assert login(Client(), username="rep_b").status_code == 302


def test_the_lockout_ends_after_the_cool_off(rep_a):
    with freeze_time("2026-03-02 09:00:00") as clock:
        fail(5)
        clock.tick(dt.timedelta(minutes=10))
        r = login(Client(), WRONG)
        assert r.status_code == 429 and "Try again in 5 minutes" in r.content.decode()  # not re-armed
        clock.tick(dt.timedelta(minutes=4, seconds=30))
        assert "Try again in 1 minute or" in login(Client()).content.decode()
        clock.tick(dt.timedelta(seconds=31))
        client = Client()
        assert login(client).status_code == 302 and signed_in(client)


def test_a_successful_sign_in_resets_the_count(rep_a):
    fail(4)
    assert login(Client()).status_code == 302
    assert fail(4) == [200] * 4


def test_the_admin_has_no_password_form_of_its_own(rep_a):
    """Its login page sends people to /login/ (where failures count and the code step follows)."""
    r = Client().post("/admin/login/", {"username": "rep_a", "password": "wrong"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert not AccessAttempt.objects.exists()


def test_failures_of_another_factor_count_through_the_signal(rep_a):
    """The 2FA step sends user_login_failed for a wrong code, with the username and the request."""
    request = RequestFactory().post("/login/verify/", {"code": "000000"})
    for _ in range(5):
        user_login_failed.send(sender=__name__, credentials={"username": "rep_a"}, request=request)
    assert AccessAttempt.objects.get(username="rep_a").failures_since_start == 5
    assert login(Client()).status_code == 429


def test_an_unknown_username_is_locked_too_never_a_500(db):
    assert fail(6, username="nobody") == [200] * 4 + [429, 429]
    # Longer than the column, or with a NUL PostgreSQL refuses: counted like any other name.
    assert fail(5, username="x" * 400) == [200] * 4 + [429]
    assert fail(5, username="nul\0name") == [200] * 5  # the form refuses a NUL before any password check
    request = RequestFactory().post("/login/verify/")
    user_login_failed.send(sender=__name__, credentials={"username": "nul\0name"}, request=request)
    assert AccessAttempt.objects.filter(username="nulname").exists()  # a second factor's signal is cleaned
    assert AccessAttempt.objects.filter(username="x" * 150).exists()


def test_failures_and_lockouts_are_logged_without_the_password(rep_a, caplog):
    with caplog.at_level(logging.WARNING, logger="crm.signin"):
        fail(5)
    lines = [r.getMessage() for r in caplog.records if r.name == "crm.signin"]
    assert "Sign-in failed: username='rep_a' ip=127.0.0.1" in lines
    assert "Sign-in locked out: username='rep_a' ip=127.0.0.1" in lines
    assert not any(WRONG in r.getMessage() for r in caplog.records)
    assert WRONG not in AccessAttempt.objects.get(username="rep_a").post_data


# --- Unlock -------------------------------------------------------------------------------------


def test_an_admin_unlocks_with_an_audit_row_and_no_one_else_may(rep_a, rep_b, admin_user):
    fail(3)
    assert fail(2, client=Client(HTTP_USER_AGENT="another browser")) == [200, 429]  # axes keeps a row per browser
    with pytest.raises(PermissionDenied):
        lockouts.lockout_clear("rep_a", actor=rep_b)
    with pytest.raises(PermissionDenied):
        lockouts.lockouts_list(actor=rep_b)
    [lock] = lockouts.lockouts_list(actor=admin_user)
    assert (lock.username, lock.ip_address, lock.failures) == ("rep_a", "127.0.0.1", 5)
    assert lockouts.lockout_clear("rep_a", actor=admin_user) == 2
    assert change_log("user", rep_a.pk) == [("boss", {"lockout": ["locked", "cleared"]})]
    assert lockouts.lockouts_list(actor=admin_user) == []
    assert login(Client()).status_code == 302


def test_unlocking_a_username_nobody_has_is_logged_as_a_lockout(admin_user):
    fail(5, username="ghost")
    assert lockouts.lockout_clear("ghost", actor=admin_user) == 1
    assert change_log("lockout", 0) == [("boss", {"lockout": ["locked", "cleared"]})]
    assert lockouts.lockout_clear("ghost", actor=admin_user) == 0  # nothing left: no second row
    assert len(change_log("lockout", 0)) == 1


def test_the_unlock_command(rep_a, capsys):
    fail(5)
    call_command("unlock", "--list")
    assert "rep_a\t127.0.0.1\t5 failures" in capsys.readouterr().out
    call_command("unlock", "rep_a")
    assert "Unlocked rep_a" in capsys.readouterr().out
    assert login(Client()).status_code == 302
    assert change_log("user", rep_a.pk) == [("", {"lockout": ["locked", "cleared"]})]


def test_the_admin_page_is_read_only_and_unlocks_through_the_service(rep_a, staff_admin):
    fail(5)
    admin = Client()
    admin.force_login(staff_admin)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "rep_a" in page.content.decode()
    assert admin.get("/admin/axes/accessattempt/add/").status_code == 403
    attempt = AccessAttempt.objects.get(username="rep_a")
    assert admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 403
    r = admin.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]})
    assert r.status_code == 302 and not AccessAttempt.objects.exists()
    assert change_log("user", rep_a.pk) == [("boss", {"lockout": ["locked", "cleared"]})]


def test_axes_own_admin_is_off(staff_admin):
    admin = Client()
    admin.force_login(staff_admin)
    assert admin.get("/admin/axes/accesslog/").status_code == 404
    assert admin.get("/admin/axes/accessfailurelog/").status_code == 404


# --- Password policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [("Short-pass1", "at least 12 characters"), ("qwerty123456", "too common")],
)
def test_a_short_or_common_password_is_refused_on_every_path(rep_a, staff_admin, password, message):
    own = Client()
    own.force_login(rep_a)
    r = own.post("/password/", {"old_password": "pw", "new_password1": password, "new_password2": password})
    assert r.status_code == 200 and message in r.content.decode()
    with pytest.raises(ValidationFailed) as exc:
        accounts.password_set(rep_a, actor=staff_admin, password=password)
    assert message in exc.value.fields["password"]
    with pytest.raises(ValidationFailed) as exc:
        accounts.user_create(actor=staff_admin, data={"username": "newbie", "password": password})
    assert message in exc.value.fields["password"]
    admin = Client()
    admin.force_login(staff_admin)
    data = {"username": "newbie", "usable_password": "true", "password1": password, "password2": password}
    r = admin.post("/admin/auth/user/add/", data)
    assert r.status_code == 200 and message in r.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    rep_a.refresh_from_db()
    assert rep_a.check_password("pw")


def test_a_long_enough_password_is_accepted(rep_a, staff_admin):
    created = accounts.user_create(actor=staff_admin, data={"username": "newbie", "password": "Twelve-chars"})
    assert created.check_password("Twelve-chars")


# --- Sessions -----------------------------------------------------------------------------------


def test_the_session_id_is_rotated_at_sign_in(rep_a):
    client = Client()
    before = SessionStore()
    before["theme"] = "dark"
    before.create()
    client.cookies[conf.SESSION_COOKIE_NAME] = before.session_key
    assert login(client).status_code == 302
    after = client.cookies[conf.SESSION_COOKIE_NAME].value
    assert after != before.session_key and not SessionStore().exists(before.session_key)
    assert signed_in(client)


def test_an_idle_session_ends(rep_a):
    with freeze_time("2026-03-02 09:00:00") as clock:
        active, idle = Client(), Client()
        active.force_login(rep_a)
        idle.force_login(rep_a)
        clock.tick(dt.timedelta(minutes=119))
        assert signed_in(active)
        clock.tick(dt.timedelta(minutes=2))  # idle: 121 minutes since its sign-in; active: 2 since its request
        assert signed_in(active)
        r = idle.get("/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")
        assert not signed_in(idle)


def test_last_seen_is_written_at_most_once_a_minute(rep_a):
    with freeze_time("2026-03-02 09:00:00") as clock:
        client = Client()
        client.force_login(rep_a)
        stamped = client.session[sessions.SEEN]
        clock.tick(dt.timedelta(seconds=30))
        assert signed_in(client) and client.session[sessions.SEEN] == stamped
        clock.tick(dt.timedelta(seconds=31))
        assert signed_in(client) and client.session[sessions.SEEN] == stamped + 61


def test_an_active_session_ends_at_its_absolute_lifetime(rep_a):
    with freeze_time("2026-03-02 09:00:00") as clock:
        client = Client()
        client.force_login(rep_a)
        for _ in range(7):  # a request every 100 minutes: never idle, 11 h 40 min in all
            clock.tick(dt.timedelta(minutes=100))
            assert signed_in(client)
        clock.tick(dt.timedelta(minutes=21))  # 12 h 1 min after the sign-in
        assert not signed_in(client)


def test_sign_out_everywhere_ends_every_session_but_not_api_tokens(rep_a):
    here, there = Client(), Client()
    here.force_login(rep_a)
    assert login(there).status_code == 302
    _, raw = ApiToken.issue(rep_a)
    page = here.get("/account/security/")
    assert page.status_code == 200 and "/account/security/sign-out-everywhere/" in page.content.decode()
    assert 'href="/account/security/"' in page.content.decode()  # in the user menu
    r = here.post("/account/security/sign-out-everywhere/")
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert not signed_in(here) and not signed_in(there)
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/contacts").status_code == 200
    assert change_log("user", rep_a.pk) == [("rep_a", {"sessions": ["", "ended"]})]
    again = Client()
    assert login(again).status_code == 302 and signed_in(again)  # a new sign-in works at once


def test_sign_out_everywhere_needs_a_post(rep_a):
    client = Client()
    client.force_login(rep_a)
    assert client.get("/account/security/sign-out-everywhere/").status_code == 405
    assert signed_in(client)


def test_an_admin_ends_another_users_sessions_and_no_one_else_may(rep_a, rep_b, staff_admin):
    client = Client()
    client.force_login(rep_a)
    with pytest.raises(PermissionDenied):
        sessions.sessions_end_all(rep_a, actor=rep_b)
    assert signed_in(client)
    admin = Client()
    admin.force_login(staff_admin)
    r = admin.post("/admin/auth/user/", {"action": "end_sessions", "_selected_action": [rep_a.pk]})
    assert r.status_code == 302
    assert not signed_in(client) and signed_in(admin)
    assert change_log("user", rep_a.pk) == [("boss", {"sessions": ["", "ended"]})]


def test_a_user_without_a_profile_can_sign_out_everywhere(db):
    user = User.objects.create_user("plain", password="pw")
    client = Client()
    client.force_login(user)
    assert sessions.sessions_end_all(user, actor=user) == 1
    assert client.get("/password/").status_code == 302


def test_a_password_change_keeps_this_session_and_ends_the_others(rep_a):
    here, there = Client(), Client()
    here.force_login(rep_a)
    there.force_login(rep_a)
    r = here.post("/password/", {"old_password": "pw", "new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302
    assert signed_in(here) and not signed_in(there)


def test_behind_a_trusted_proxy_the_lockout_counts_the_client_address(rep_a, settings):
    """The lockout reads the address the API limits do (crm/core/clientip.py): behind one proxy, the
    client the proxy saw; another client of the same proxy is not locked out with them."""
    settings.TRUSTED_PROXY_COUNT = 1
    mallory = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert fail(5, client=mallory)[-1] == 429
    assert login(mallory).status_code == 429
    assert login(Client(HTTP_X_FORWARDED_FOR="198.51.100.7")).status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_header_changes_nothing(rep_a, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert fail(5, client=Client(HTTP_X_FORWARDED_FOR="203.0.113.9"))[-1] == 429
    assert login(Client(HTTP_X_FORWARDED_FOR="198.51.100.8")).status_code == 429  # same REMOTE_ADDR
