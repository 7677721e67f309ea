"""Two-factor sign-in: enrolment, the code step of sign-in (wrong and replayed codes, recovery codes,
remembered devices), the role requirement, turning it off, and resets by admins and operators.

Time is frozen (freezegun): codes are computed for a known time step, and moving the clock by a
step gives the next code, so nothing depends on how fast the test runs."""

import base64
import io
import os
import re

import pytest
from django.contrib.auth.signals import user_login_failed
from django.core.management import call_command
from django.test import Client
from django.urls import get_resolver
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from crm.access import services, twofactor
from crm.access.models import RecoveryCode, Role
from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.web.views import signin
from tests.test_admin_writes import log_of, role_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    get_resolver().check()  # import every URL module (the API's schemas) before datetime is faked
    with freeze_time("2026-12-01 12:00:00") as frozen:
        yield frozen


@pytest.fixture
def root(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(root):
    client = Client()
    client.force_login(root)
    return client


def code_for(device) -> str:
    """The device's current TOTP code (django-otp's own RFC 6238 implementation)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enrol(user, clock):
    device = twofactor.enrolment_start(user, actor=user)
    device, codes = twofactor.enrolment_confirm(user, actor=user, code=code_for(device))
    clock.tick(30)  # the enrolment code's time step is used up: sign-ins use the next one
    return device, codes


def password_step(client, username="rep_a", password="pw", **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def signed_in(client) -> bool:
    return client.get("/contacts/").status_code == 200


def log_rows(user):
    return list(
        ObjectChange.objects.filter(object_type="user", object_id=user.pk)
        .order_by("id")
        .values_list("user_name", "changes")
    )


# --- Enrolment ---------------------------------------------------------------------------------


def test_enrolment_page_shows_a_qr_code_and_the_secret_then_ten_hashed_recovery_codes(rep_a, clock):
    client = Client()
    client.force_login(rep_a)
    page = client.get("/account/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=rep_a, confirmed=False)
    data_uri = page.split('<img src="', 1)[1].split('"', 1)[0]
    assert data_uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(data_uri.split(",", 1)[1]).startswith(b"<svg")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:4] in page and "<script>" not in page  # no inline script: the CSP allows none

    r = client.post("/account/two-factor/", {"action": "confirm", "confirm-code": "000000"})
    assert r.status_code == 422 and "Wrong code." in r.content.decode()
    assert not twofactor.is_enabled(rep_a)
    clock.tick(2)  # past the throttle delay of one wrong code

    r = client.post("/account/two-factor/", {"action": "confirm", "confirm-code": code_for(device)})
    assert r.status_code == 200 and r["Cache-Control"].startswith("max-age=0")
    codes = re.findall(r"<li><code>([^<]+)</code></li>", r.content.decode())
    assert len(set(codes)) == 10 and all(len(c) == 9 and c[4] == "-" for c in codes)
    assert twofactor.is_enabled(rep_a) and "_auth_user_id" in client.session and "otp_device_id" in client.session
    stored = list(RecoveryCode.objects.filter(user=rep_a).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert sorted(stored) == sorted(twofactor.code_hash(rep_a.pk, c) for c in codes)
    dump = io.StringIO()
    call_command("dumpdata", "access.recoverycode", stdout=dump)
    assert not any(c in dump.getvalue() or c.replace("-", "") in dump.getvalue() for c in codes)
    assert log_rows(rep_a)[-1] == ("rep_a", {"two_factor": ["off", "on"]})
    # The codes are shown once: the page now offers new ones, never the old ones again.
    again = client.get("/account/two-factor/").content.decode()
    assert "10 recovery codes left" in again and codes[0] not in again


def test_nobody_enrols_someone_else(rep_a, rep_b, admin_user):
    for actor in (rep_b, admin_user):
        with pytest.raises(PermissionDenied):
            twofactor.enrolment_start(rep_a, actor=actor)


# --- The code step of sign-in ------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password_and_keeps_next(rep_a, clock):
    device, _ = enrol(rep_a, clock)
    client = Client()
    r = password_step(client, next="/contacts/")
    assert r.status_code == 302 and r["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session and not signed_in(client)  # not signed in between the steps
    assert "Enter the code" in client.get("/login/code/").content.decode()
    r = client.post("/login/code/", {"code": code_for(device)})
    assert r.status_code == 302 and r["Location"] == "/contacts/"
    assert signed_in(client) and client.session["otp_device_id"] == device.persistent_id
    assert client.get("/login/").status_code == 302  # redirect_authenticated_user still holds


def test_an_unsafe_next_is_dropped(rep_a, clock):
    device, _ = enrol(rep_a, clock)
    client = Client()
    password_step(client, next="https://evil.example/")
    assert client.post("/login/code/", {"code": code_for(device)})["Location"] == "/"


def test_a_wrong_code_is_refused_and_counted_as_a_failed_login(rep_a, clock):
    device, _ = enrol(rep_a, clock)
    failures = []

    def receiver(sender, credentials, request=None, **kwargs):
        failures.append((credentials, request.path))

    user_login_failed.connect(receiver)
    try:
        client = Client()
        password_step(client)
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        r = client.post("/login/code/", {"code": wrong})
    finally:
        user_login_failed.disconnect(receiver)
    assert r.status_code == 200 and "Wrong code." in r.content.decode()
    assert failures == [({"username": "rep_a"}, "/login/code/")]
    assert not signed_in(client)
    # django-otp slows the next try down; a moment later the right code works.
    assert "Too many wrong codes" in client.post("/login/code/", {"code": code_for(device)}).content.decode()
    clock.tick(3)
    assert client.post("/login/code/", {"code": code_for(device)}).status_code == 302


def test_a_replayed_code_is_refused(rep_a, clock):
    device, _ = enrol(rep_a, clock)
    code = code_for(device)
    client = Client()
    password_step(client)
    assert client.post("/login/code/", {"code": code}).status_code == 302
    device.refresh_from_db()
    used_t = device.last_t
    assert used_t == TOTP(device.bin_key, device.step, device.t0).t()
    client.post("/logout/")

    clock.tick(10)  # same 30-second window: the code is still "current", but it was used
    password_step(client)
    r = client.post("/login/code/", {"code": code})
    assert r.status_code == 200 and "Wrong code." in r.content.decode() and not signed_in(client)
    device.refresh_from_db()
    assert device.last_t == used_t


def test_five_wrong_codes_send_the_user_back_to_the_password(rep_a, clock, settings):
    settings.AXES_FAILURE_LIMIT = 50  # the lockout (next test) would answer first
    enrol(rep_a, clock)
    client = Client()
    password_step(client)
    for _ in range(signin.MAX_CODE_TRIES):
        r = client.post("/login/code/", {"code": "not-a-code"})
        clock.tick(40)  # past each throttle delay
    assert r.status_code == 302 and r["Location"] == "/login/"
    assert client.get("/login/code/")["Location"] == "/login/"


def test_wrong_codes_count_toward_the_sign_in_lockout(rep_a, clock):
    """Each wrong code is a failed sign-in for django-axes (user_login_failed): with the password
    failures before it, the fifth failure locks the username out, right password and code included."""
    device, _ = enrol(rep_a, clock)
    Client().post("/login/", {"username": "rep_a", "password": "wrong"})
    client = Client()
    password_step(client)
    statuses = []
    for _ in range(4):
        statuses.append(client.post("/login/code/", {"code": "000000"}).status_code)
        clock.tick(40)
    assert statuses[-1] == 429, statuses
    r = Client().post("/login/", {"username": "rep_a", "password": "pw"})
    assert r.status_code == 429 and "Too many failed sign-in attempts" in r.content.decode()


def test_the_code_step_expires_after_five_minutes(rep_a, clock):
    device, _ = enrol(rep_a, clock)
    client = Client()
    password_step(client)
    clock.tick(301)
    r = client.post("/login/code/", {"code": code_for(device)})
    assert r.status_code == 302 and r["Location"] == "/login/" and not signed_in(client)


def test_the_code_step_without_the_password_step_goes_to_login(rep_a, clock):
    enrol(rep_a, clock)
    r = Client().post("/login/code/", {"code": "123456"})
    assert r.status_code == 302 and r["Location"] == "/login/"


def test_a_recovery_code_signs_in_once(rep_a, clock):
    _, codes = enrol(rep_a, clock)
    client = Client()
    password_step(client)
    assert client.post("/login/code/", {"code": codes[3].upper()})["Location"] == "/"
    assert signed_in(client)
    assert RecoveryCode.objects.filter(user=rep_a, used_at__isnull=False).count() == 1
    assert log_rows(rep_a)[-1] == ("rep_a", {"recovery_codes": ["", "one used"]})
    client.post("/logout/")
    password_step(client)
    r = client.post("/login/code/", {"code": codes[3]})
    assert "Wrong code." in r.content.decode() and not signed_in(client)


# --- Remember this device ----------------------------------------------------------------------------


def test_a_remembered_device_skips_the_code_step_until_a_reset(rep_a, admin_user, clock):
    device, _ = enrol(rep_a, clock)
    client = Client()
    password_step(client)
    r = client.post("/login/code/", {"code": code_for(device), "remember": "on"})
    cookie = r.cookies[signin.remember_cookie()]
    assert cookie["httponly"] is True and cookie["max-age"] == 30 * 86400 and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and not cookie["domain"]  # as the __Host- prefix requires
    if "SECURE_COOKIES" not in os.environ:
        assert cookie["secure"] is True and cookie.key == "__Host-crm_two_factor_remember"
    client.post("/logout/")

    r = password_step(client)
    assert r["Location"] == "/" and signed_in(client)  # no code asked
    assert client.session["otp_device_id"] == device.persistent_id
    client.post("/logout/")

    twofactor.two_factor_reset(rep_a, actor=admin_user)
    enrol(rep_a, clock)  # a new device (maybe with the old id): the old cookie must not fit it
    assert password_step(client)["Location"] == "/login/code/"

    # A forged cookie skips nothing either.
    client.cookies[signin.remember_cookie()] = "forged"
    assert password_step(client)["Location"] == "/login/code/"


def test_over_plain_http_the_remember_cookie_keeps_its_plain_name_and_works(rep_a, clock, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False  # as SECURE_COOKIES=0
    settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME = "sessionid", "csrftoken"
    device, _ = enrol(rep_a, clock)
    client = Client()
    password_step(client)
    r = client.post("/login/code/", {"code": code_for(device), "remember": "on"})
    cookie = r.cookies["crm_two_factor_remember"]
    assert not cookie["secure"] and "sessionid" in client.cookies
    client.post("/logout/")
    assert password_step(client)["Location"] == "/" and signed_in(client)


def test_remembering_can_be_turned_off(rep_a, clock, settings):
    settings.TWO_FACTOR_REMEMBER_DAYS = 0
    device, _ = enrol(rep_a, clock)
    client = Client()
    password_step(client)
    assert "Remember this device" not in client.get("/login/code/").content.decode()
    r = client.post("/login/code/", {"code": code_for(device), "remember": "on"})
    assert signin.remember_cookie() not in r.cookies


# --- Role requirement ----------------------------------------------------------------------------------


def test_a_role_requiring_two_factor_sends_its_users_to_enrolment_first(rep_a, admin_user, api, clock):
    role = rep_a.profile.role
    services.role_update(role, actor=admin_user, data={"requires_two_factor": True})
    assert ObjectChange.objects.filter(object_type="role", object_id=role.pk).first().changes == {
        "requires_two_factor": [False, True]
    }
    client = Client()
    r = password_step(client, next="/contacts/")
    assert r["Location"] == "/account/two-factor/"
    assert client.get("/contacts/")["Location"] == "/account/two-factor/"
    assert client.get("/contacts/", headers={"HX-Request": "true"}).status_code == 403
    assert client.post("/contacts/new/", {}).status_code == 403
    assert api(rep_a).get("/contacts").status_code == 200  # the API signs in with tokens
    page = client.get("/account/two-factor/").content.decode()
    assert "Your role requires two-factor sign-in" in page

    device = TOTPDevice.objects.get(user=rep_a, confirmed=False)
    client.post("/account/two-factor/", {"action": "confirm", "confirm-code": code_for(device)})
    assert signed_in(client)
    with pytest.raises(PermissionDenied):
        twofactor.two_factor_disable(rep_a, actor=rep_a, password="pw", code="123456")


def test_a_required_user_with_a_device_but_an_unverified_session_signs_in_again(rep_a, admin_user, clock):
    enrol(rep_a, clock)
    services.role_update(rep_a.profile.role, actor=admin_user, data={"requires_two_factor": True})
    client = Client()
    client.force_login(rep_a)  # as a session from before the role asked for it
    r = client.get("/contacts/")
    assert r["Location"] == "/login/?next=/contacts/" and "_auth_user_id" not in client.session


# --- Managing it ------------------------------------------------------------------------------------------


def test_turning_it_off_needs_the_password_and_a_code(rep_a, clock):
    device, codes = enrol(rep_a, clock)
    with pytest.raises(ValidationFailed) as wrong_password:
        twofactor.two_factor_disable(rep_a, actor=rep_a, password="nope", code=code_for(device))
    assert wrong_password.value.fields == {"password": "Wrong password."}
    with pytest.raises(ValidationFailed) as wrong_code:
        twofactor.two_factor_disable(rep_a, actor=rep_a, password="pw", code="zzzz-zzzz")
    assert wrong_code.value.fields == {"code": "Wrong code."}
    assert twofactor.is_enabled(rep_a)
    clock.tick(3)

    client = Client()
    client.force_login(rep_a)
    r = client.post("/account/two-factor/", {"action": "disable", "disable-password": "pw", "disable-code": codes[0]})
    assert r.status_code == 302
    assert not TOTPDevice.objects.filter(user=rep_a).exists() and not RecoveryCode.objects.filter(user=rep_a).exists()
    assert log_rows(rep_a)[-1] == ("rep_a", {"two_factor": ["on", "off"]})
    assert password_step(Client())["Location"] == "/"  # the password alone again


def test_new_recovery_codes_need_a_code_and_replace_the_old_ones(rep_a, clock):
    device, old = enrol(rep_a, clock)
    with pytest.raises(ValidationFailed):
        twofactor.recovery_codes_regenerate(rep_a, actor=rep_a, code=old[0])  # an app code, not a recovery code
    clock.tick(30)
    client = Client()
    client.force_login(rep_a)
    r = client.post("/account/two-factor/", {"action": "regenerate", "regenerate-code": code_for(device)})
    new_page = r.content.decode()
    assert "old ones no longer work" in new_page and old[0] not in new_page
    assert log_rows(rep_a)[-1] == ("rep_a", {"recovery_codes": ["", "regenerated"]})
    with pytest.raises(ValidationFailed):
        twofactor.verify_sign_in_code(rep_a, old[0])


# --- Reset by an admin or the operator; django-otp's admin ----------------------------------------------


def test_reset_is_for_admins_and_is_logged(rep_a, rep_b, admin_user, clock):
    enrol(rep_a, clock)
    with pytest.raises(PermissionDenied):
        twofactor.two_factor_reset(rep_a, actor=rep_b)
    assert twofactor.is_enabled(rep_a)
    assert twofactor.two_factor_reset(rep_a, actor=admin_user) is True
    assert not TOTPDevice.objects.filter(user=rep_a).exists() and not RecoveryCode.objects.filter(user=rep_a).exists()
    assert log_rows(rep_a)[-1] == ("boss", {"two_factor": ["on", "reset"]})
    assert twofactor.two_factor_reset(rep_a, actor=admin_user) is False


def test_reset_from_the_user_admin_and_the_command(rep_a, rep_b, admin_client, clock):
    enrol(rep_a, clock)
    enrol(rep_b, clock)
    r = admin_client.post("/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [rep_a.pk]})
    assert r.status_code == 302
    assert not twofactor.is_enabled(rep_a) and twofactor.is_enabled(rep_b)
    assert log_rows(rep_a)[-1] == ("root", {"two_factor": ["on", "reset"]})

    out = io.StringIO()
    call_command("twofactor-reset", "rep_b", stdout=out)
    assert "reset" in out.getvalue() and not twofactor.is_enabled(rep_b)
    assert log_rows(rep_b)[-1] == ("rep_b", {"two_factor": ["on", "reset"]})


def test_django_otp_admin_is_read_only_and_the_admin_login_is_ours(rep_a, admin_client, clock):
    device, _ = enrol(rep_a, clock)
    admin = admin_client
    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200 and device.key not in page.content.decode()
    assert admin.get("/admin/otp_totp/totpdevice/add/").status_code == 403
    assert admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(f"/admin/otp_totp/totpdevice/{device.pk}/change/", {"name": "x"}).status_code == 403
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)
    assert TOTPDevice.objects.filter(pk=device.pk, name="Authenticator app").exists()

    r = Client().get("/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/admin/"


def test_the_role_admin_form_sets_the_requirement(admin_client):
    r = admin_client.post("/admin/access/role/add/", {**role_post(), "requires_two_factor": "on"})
    assert r.status_code == 302
    role = Role.objects.get(slug="auditor")
    assert role.requires_two_factor is True
    assert log_of("role", role.pk)[-1][3]["requires_two_factor"] == [None, True]
