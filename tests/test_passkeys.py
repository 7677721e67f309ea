"""Passkeys (WebAuthn) through the real views and py_webauthn, answered by a software authenticator
with a real P-256 key (tests/passkey_authenticator.py): registration from the Security page (named,
listed, removed, logged), the passkey as the second step after the password, passwordless sign-in, and
every refusal: wrong challenge, wrong origin, replay, a cloned authenticator's counter, an unknown
credential, an expired challenge, no user verification where it is needed, and the lockout count."""

import json
import time

import pytest
from axes.models import AccessAttempt
from django.test import Client

from crm.access import passkeys, services, twofactor
from crm.access.models import Passkey
from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.web.views.passkeys import REGISTER_STATE, SIGN_IN_STATE
from tests.passkey_authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:8000"


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [ORIGIN]


def register(client, authenticator, name="Laptop", password="pw"):
    options = client.post("/account/security/passkeys/options/").json()
    credential = authenticator.create(options)
    return client.post("/account/security/passkeys/", {"name": name, "credential": credential, "password": password})


@pytest.fixture
def key(rep_a):
    """rep_a's registered passkey (its authenticator)."""
    authenticator = SoftAuthenticator()
    client = Client()
    client.force_login(rep_a)
    register(client, authenticator)
    assert Passkey.objects.filter(user=rep_a).count() == 1
    return authenticator


def password_step(client, username="rep_a", password="pw", **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def challenge(client) -> str:
    return client.post("/login/passkey/options/").json()["challenge"]


def signed_in(client) -> bool:
    return client.get("/contacts/").status_code == 200


def failures(username="rep_a") -> int:
    return sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True))


# --- Registration -----------------------------------------------------------------------------------------


def test_a_passkey_is_registered_named_listed_and_removed_with_log_rows(rep_a):
    client = Client()
    client.force_login(rep_a)
    r = register(client, SoftAuthenticator(), name="Work laptop")
    assert r.status_code == 302 and r["Location"] == "/account/security/"
    passkey = Passkey.objects.get(user=rep_a)
    assert (passkey.name, passkey.sign_count, passkey.transports) == ("Work laptop", 0, ["internal"])
    page = client.get("/account/security/").content.decode()
    assert "Work laptop" in page and "Passkey “Work laptop” added." in page
    assert twofactor.has_second_factor(rep_a) and not twofactor.is_enabled(rep_a)

    r = client.post(f"/account/security/passkeys/{passkey.pk}/remove/", {"password": "wrong"}, follow=True)
    assert "Wrong password." in r.content.decode() and Passkey.objects.filter(user=rep_a).exists()
    client.post(f"/account/security/passkeys/{passkey.pk}/remove/", {"password": "pw"})
    assert not Passkey.objects.filter(user=rep_a).exists()
    rows = ObjectChange.objects.filter(object_type="user", object_id=rep_a.pk).order_by("id")
    assert [r.changes for r in rows] == [
        {"passkeys": ["", "added “Work laptop”"]},
        {"passkeys": ["“Work laptop”", "removed"]},
    ]
    assert "public_key" not in json.dumps([r.changes for r in rows])


def test_registration_is_refused_for_a_wrong_origin_a_reused_challenge_or_no_name(rep_a):
    client = Client()
    client.force_login(rep_a)
    options = client.post("/account/security/passkeys/options/").json()
    evil = SoftAuthenticator().create(options, origin="https://evil.example")
    r = client.post("/account/security/passkeys/", {"name": "x", "credential": evil, "password": "pw"}, follow=True)
    assert "The passkey was not added. The passkey was not accepted." in r.content.decode()
    good = SoftAuthenticator().create(options)  # its challenge went with the refused try
    r = client.post("/account/security/passkeys/", {"name": "x", "credential": good, "password": "pw"}, follow=True)
    assert "expired or was already used" in r.content.decode()
    r = register(client, SoftAuthenticator(), name="  ")
    r = register(client, SoftAuthenticator(), password="wrong")
    assert not Passkey.objects.exists()
    body = {"name": "x", "credential": "{not json", "password": "pw"}
    r = client.post("/account/security/passkeys/", body, follow=True)
    assert r.status_code == 200 and not Passkey.objects.exists()
    rep_a.set_unusable_password()  # an account that signs in through SSO only: nothing to re-check
    text, state = passkeys.registration_options(rep_a, actor=rep_a)
    answer = SoftAuthenticator().create(json.loads(text))
    with pytest.raises(PermissionDenied, match="password of your own"):
        passkeys.passkey_register(rep_a, actor=rep_a, name="x", credential=answer, state=state, password="")


def test_the_same_authenticator_is_registered_once_and_only_by_its_owner(rep_a, rep_b, key):
    client = Client()
    client.force_login(rep_a)
    r = client.post("/account/security/passkeys/options/").json()
    assert [c["id"] for c in r["excludeCredentials"]] == [Passkey.objects.get(user=rep_a).credential_key]
    client.post("/account/security/passkeys/", {"name": "again", "credential": key.create(r), "password": "pw"})
    assert Passkey.objects.filter(user=rep_a).count() == 1
    with pytest.raises(PermissionDenied):
        passkeys.registration_options(rep_a, actor=rep_b)
    other = Client()
    other.force_login(rep_b)
    removal = other.post(f"/account/security/passkeys/{Passkey.objects.get().pk}/remove/", {"password": "pw"})
    assert removal.status_code == 302
    assert Passkey.objects.filter(user=rep_a).count() == 1  # not rep_b's to remove


def test_the_challenge_expires(rep_a, settings):
    text, state = passkeys.registration_options(rep_a, actor=rep_a)
    state["at"] = time.time() - settings.PASSKEY_CHALLENGE_SECONDS - 1
    answer = SoftAuthenticator().create(json.loads(text))
    with pytest.raises(ValidationFailed) as refused:
        passkeys.passkey_register(rep_a, actor=rep_a, name="x", credential=answer, state=state, password="pw")
    assert "expired" in refused.value.fields["credential"]
    state["at"] = time.time()
    assert passkeys.passkey_register(rep_a, actor=rep_a, name="x", credential=answer, state=state, password="pw").pk


# --- The second step after the password -------------------------------------------------------------------


def test_password_then_passkey_signs_in_verified(rep_a, key, admin_user):
    services.role_update(rep_a.profile.role, actor=admin_user, data={"requires_two_factor": True})
    client = Client()
    r = password_step(client, next="/contacts/")
    assert r["Location"] == "/login/code/" and not signed_in(client)
    page = client.get("/login/code/").content.decode()
    assert "Use a passkey" in page and 'name="code"' not in page  # no app: no code form
    options = client.post("/login/passkey/options/").json()
    assert [c["id"] for c in options["allowCredentials"]] == [Passkey.objects.get().credential_key]
    r = client.post("/login/passkey/", {"credential": key.get(options["challenge"])})
    assert r.status_code == 302 and r["Location"] == "/contacts/"
    assert signed_in(client)  # the role's requirement is met by the passkey
    passkey = Passkey.objects.get()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_replayed_assertion_is_refused(rep_a, key):
    client = Client()
    password_step(client)
    answer = key.get(challenge(client))
    assert client.post("/login/passkey/", {"credential": answer}).status_code == 302
    client.logout()
    password_step(client)
    challenge(client)  # a new challenge is waiting; the old answer does not sign it
    r = client.post("/login/passkey/", {"credential": answer})
    assert r.status_code == 200 and "The passkey was not accepted." in r.content.decode()
    assert not signed_in(client) and failures() == 1


def test_a_wrong_challenge_or_origin_is_refused_and_counted(rep_a, key):
    client = Client()
    password_step(client)
    challenge(client)
    r = client.post("/login/passkey/", {"credential": key.get("AAAAAAAAAAAAAAAAAAAAAA")})
    assert "The passkey was not accepted." in r.content.decode() and not signed_in(client)
    r = client.post("/login/passkey/", {"credential": key.get(challenge(client), origin="https://evil.example")})
    assert "The passkey was not accepted." in r.content.decode() and not signed_in(client)
    r = client.post("/login/passkey/", {"credential": key.get("x")})  # no challenge asked for
    assert "expired or was already used" in r.content.decode()
    assert failures() == 3


def test_a_sign_counter_that_goes_back_is_refused(rep_a, key):
    """A cloned authenticator answers with a counter the server has already seen."""
    client = Client()
    password_step(client)
    client.post("/login/passkey/", {"credential": key.get(challenge(client))})
    client.logout()
    password_step(client)
    r = client.post("/login/passkey/", {"credential": key.get(challenge(client), count=False)})
    assert "The passkey was not accepted." in r.content.decode() and not signed_in(client)


def test_an_unknown_or_someone_elses_passkey_is_refused(rep_a, rep_b, key):
    stranger = SoftAuthenticator()
    client = Client()
    password_step(client)
    r = client.post("/login/passkey/", {"credential": stranger.get(challenge(client))})
    assert "not registered for this account" in r.content.decode() and not signed_in(client)
    rep_b.set_password("pw")
    rep_b.save()
    other = Client()
    other.force_login(rep_b)
    register(other, SoftAuthenticator())
    other.logout()
    password_step(other, username="rep_b")
    assert other.get("/login/code/").status_code == 200
    r = other.post("/login/passkey/", {"credential": key.get(challenge(other))})  # rep_a's passkey
    assert "not registered for this account" in r.content.decode() and not signed_in(other)


def test_wrong_assertions_count_toward_the_lockout(rep_a, key):
    Client().post("/login/", {"username": "rep_a", "password": "wrong"})
    client = Client()
    password_step(client)
    statuses = [client.post("/login/passkey/", {"credential": key.get("bad")}).status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses
    r = Client().post("/login/", {"username": "rep_a", "password": "pw"})
    assert r.status_code == 429


# --- Passwordless ------------------------------------------------------------------------------------------


def test_passwordless_sign_in_needs_user_verification(rep_a, key):
    client = Client()
    options = client.post("/login/passkey/options/").json()
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    r = client.post("/login/passkey/", {"credential": key.get(options["challenge"]), "next": "/contacts/"})
    assert r.status_code == 302 and r["Location"] == "/contacts/" and signed_in(client)

    key.user_verified = False  # a security key touched, no PIN: one factor only
    other = Client()
    r = other.post("/login/passkey/", {"credential": key.get(challenge(other))})
    assert r.status_code == 400 and "The passkey was not accepted." in r.content.decode()
    assert not signed_in(other) and failures() == 1


def test_passwordless_refuses_unknown_passkeys_locked_users_and_sso_only(rep_a, key, settings):
    client = Client()
    r = client.post("/login/passkey/", {"credential": SoftAuthenticator().get(challenge(client))})
    assert r.status_code == 400 and not signed_in(client)
    r = client.post("/login/passkey/", {"credential": "garbage"})
    assert r.status_code == 400
    for _ in range(5):
        Client().post("/login/", {"username": "rep_a", "password": "wrong"})
    r = client.post("/login/passkey/", {"credential": key.get(challenge(client))})
    assert r.status_code == 429 and not signed_in(client)
    settings.SSO_ONLY = True
    assert client.post("/login/passkey/options/").status_code == 403
    assert "Sign in with a passkey" not in client.get("/login/").content.decode()


def test_an_admin_reset_removes_the_passkeys_and_a_required_last_factor_stays(rep_a, admin_user, key):
    services.role_update(rep_a.profile.role, actor=admin_user, data={"requires_two_factor": True})
    passkey = Passkey.objects.get()
    with pytest.raises(PermissionDenied, match="requires two-factor"):
        passkeys.passkey_remove(rep_a, actor=rep_a, passkey_id=passkey.pk, password="pw")
    assert twofactor.two_factor_reset(rep_a, actor=admin_user)
    assert not Passkey.objects.exists()


def test_a_required_user_may_add_a_passkey_instead_of_an_app(rep_a, admin_user):
    services.role_update(rep_a.profile.role, actor=admin_user, data={"requires_two_factor": True})
    client = Client()
    password_step(client)
    assert client.get("/contacts/")["Location"] == "/account/two-factor/"
    assert "Security page" in client.get("/account/two-factor/").content.decode()
    register(client, SoftAuthenticator())
    assert signed_in(client)  # the session has just shown the passkey
    assert client.session.get(REGISTER_STATE) is None and client.session.get(SIGN_IN_STATE) is None
