"""Single sign-on (crm/access/sso.py) against a real OpenID Connect provider: django-oauth-toolkit in
its own process on loopback (tests/oidc_provider/), signing RS256 ID tokens with a key made at start."""

import logging
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crm.access import accounts
from crm.access.models import SsoIdentity, Team
from crm.audit.models import ObjectChange
from tests.factories import UserFactory
from tests.oidc_provider import harness

SECRET = "crm-client-secret"
FAILED = "Sign-in with SSO failed"


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    started = harness.start(tmp_path_factory.mktemp("oidc-provider"))
    started.client("crm", SECRET)
    started.client("other-app", "other-secret")
    yield started
    started.stop()


@pytest.fixture(scope="session")
def stranger(tmp_path_factory):
    """A second provider with a key of its own: the CRM pointed at its JWKS trusts the wrong key."""
    started = harness.start(tmp_path_factory.mktemp("oidc-stranger"))
    yield started
    started.stop()


@pytest.fixture
def sso(settings, provider, db):
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = provider.url
    settings.OIDC_RP_CLIENT_ID = "crm"
    settings.OIDC_RP_CLIENT_SECRET = SECRET
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_DEFAULT_ROLE = "sales-rep"
    return settings


def start_sign_in(client: Client, provider) -> str:
    r = client.get("/oidc/authenticate/", {"next": "/contacts/"})
    assert r.status_code == 302 and r["Location"].startswith(f"{provider.url}/authorize/?")
    return r["Location"]


def sso_login(client: Client, provider, username: str):
    """The whole round trip; returns the CRM's answer to the callback."""
    return client.get(harness.sign_in_at_provider(start_sign_in(client, provider), username))


def signed_in(client: Client):
    return client.session.get("_auth_user_id")


def assert_refused(r, client, caplog, reason: str, message: str = FAILED):
    assert r.status_code == 403
    assert FAILED in r.content.decode() and message in r.content.decode()
    assert signed_in(client) is None
    refusals = [rec.getMessage() for rec in caplog.records if rec.name == "crm.access.sso"]
    assert any(rec.levelno == logging.WARNING for rec in caplog.records if rec.name == "crm.access.sso")
    assert any(reason in m for m in refusals), refusals


# --- Sign-in ----------------------------------------------------------------------------------------


def test_login_page_shows_the_sso_button_only_when_enabled(settings, db):
    assert "Sign in with SSO" not in Client().get("/login/").content.decode()
    assert Client().get("/oidc/authenticate/").status_code == 404
    settings.OIDC_ENABLED = True
    assert 'href="/oidc/authenticate/"' in Client().get("/login/").content.decode()


def test_first_sign_in_creates_the_user_with_the_default_role(sso, provider):
    subject = provider.user("jit-alice", first_name="Alice", last_name="Jit")
    client = Client()
    r = sso_login(client, provider, "jit-alice")
    assert r.status_code == 302 and r["Location"] == "/contacts/"
    user = User.objects.get(username="jit-alice")
    assert int(signed_in(client)) == user.pk and client.session["sso_login"] is True
    assert user.email == "jit-alice@idp.example" and user.first_name == "Alice" and not user.has_usable_password()
    assert user.profile.role.slug == "sales-rep"
    assert SsoIdentity.objects.filter(user=user, issuer=provider.url, subject=subject).exists()
    created = ObjectChange.objects.get(object_type="user", object_id=user.pk, action="create")
    assert created.source == "sso" and created.user_name == "jit-alice"
    assert client.get("/").status_code == 200


def test_groups_map_to_role_and_team_at_every_sign_in(sso, provider):
    sso.OIDC_DEFAULT_ROLE = ""
    sso.OIDC_GROUP_ROLES = {"crm-managers": "sales-manager", "crm-reps": "sales-rep"}
    sso.OIDC_GROUP_TEAMS = {"crm-east": "East", "crm-west": "West"}
    Team.objects.create(name="East")
    Team.objects.create(name="West")
    provider.user("mapped-max", groups=["crm-managers", "crm-east", "unrelated"])
    sso_login(Client(), provider, "mapped-max")
    user = User.objects.get(username="mapped-max")
    assert (user.profile.role.slug, user.profile.team.name) == ("sales-manager", "East")

    provider.user("mapped-max", groups=["crm-reps", "crm-west"])
    assert sso_login(Client(), provider, "mapped-max").status_code == 302
    user.profile.refresh_from_db()
    assert (user.profile.role.slug, user.profile.team.name) == ("sales-rep", "West")
    [update] = access_changes(user)
    assert update.source == "sso" and update.user_name == "mapped-max"
    assert update.changes["role"] == ["sales-manager", "sales-rep"] and update.changes["team"] == ["East", "West"]

    sso_login(Client(), provider, "mapped-max")  # nothing changed: no change-log row
    assert len(access_changes(user)) == 1

    provider.user("mapped-max", groups=[])  # out of every mapped group: no role, no team left
    sso_login(Client(), provider, "mapped-max")
    user.profile.refresh_from_db()
    assert user.profile.role is None and user.profile.team is None


def test_a_mapping_to_a_role_that_does_not_exist_refuses_sign_in(sso, provider, caplog):
    sso.OIDC_GROUP_ROLES = {"crm-bosses": "no-such-role"}
    provider.user("typo-tim", groups=["crm-bosses"])
    client = Client()
    assert_refused(sso_login(client, provider, "typo-tim"), client, caplog, "does not exist")
    assert not User.objects.filter(username="typo-tim").exists()


def test_group_mapping_settings_are_parsed_in_order_and_bad_entries_named(monkeypatch):
    from crm.settings import env_mapping

    monkeypatch.setenv("X_MAP", " /crm/admins=admin, crm-reps = sales-rep ,")
    assert list(env_mapping("X_MAP").items()) == [("/crm/admins", "admin"), ("crm-reps", "sales-rep")]
    monkeypatch.setenv("X_MAP", "crm-admins=admin,crm-reps")
    with pytest.raises(ValueError, match="X_MAP: 'crm-reps' is not group=value"):
        env_mapping("X_MAP")


def access_changes(user):
    rows = ObjectChange.objects.filter(object_type="user", object_id=user.pk, action="update")
    return [row for row in rows if "role" in row.changes or "team" in row.changes]


def test_an_existing_user_is_found_by_subject_not_by_email(sso, provider):
    linked = UserFactory(username="bob", email="bob@crm.example", role="sales-rep")
    UserFactory(username="carol", email="carol@idp.example")  # the email the provider will send
    subject = provider.user("bob-at-idp", email="carol@idp.example")
    accounts.sso_identity_link(linked, issuer=provider.url, subject=subject)
    client = Client()
    assert sso_login(client, provider, "bob-at-idp").status_code == 302
    assert int(signed_in(client)) == linked.pk
    assert not User.objects.filter(username="bob-at-idp").exists()


def test_an_unknown_user_is_refused_when_just_in_time_creation_is_off(sso, provider, caplog):
    sso.OIDC_CREATE_USERS = False
    UserFactory(username="dora", email="dora@idp.example")  # same email: still no match by default
    provider.user("dora-idp", email="dora@idp.example")
    client = Client()
    r = sso_login(client, provider, "dora-idp")
    assert_refused(r, client, caplog, "OIDC_CREATE_USERS is off", "There is no CRM account for you yet")
    assert not SsoIdentity.objects.exists() and not User.objects.filter(username="dora-idp").exists()

    sso.OIDC_LINK_BY_EMAIL = True  # the provider says the email is verified: linked at first sign-in
    assert sso_login(client, provider, "dora-idp").status_code == 302
    assert User.objects.get(pk=signed_in(client)).username == "dora"
    assert SsoIdentity.objects.get().user.username == "dora"


def test_an_inactive_user_is_refused(sso, provider, caplog):
    user = UserFactory(username="gone", is_active=False)
    accounts.sso_identity_link(user, issuer=provider.url, subject=provider.user("gone-idp"))
    client = Client()
    assert_refused(sso_login(client, provider, "gone-idp"), client, caplog, "inactive", "deactivated")


def test_provider_down_gives_a_page_not_a_500(sso, caplog):
    sso.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    client = Client()
    assert_refused(client.get("/oidc/authenticate/"), client, caplog, "unavailable", "unavailable")


# --- Refused tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("verify_kid", [True, False], ids=["key-not-in-jwks", "bad-signature"])
def test_an_id_token_signed_with_a_key_the_crm_does_not_trust_is_refused(sso, provider, stranger, caplog, verify_kid):
    sso.OIDC_OP_JWKS_ENDPOINT = f"{stranger.url}/.well-known/jwks.json"
    sso.OIDC_VERIFY_KID = verify_kid  # off: the stranger's key is tried, and the signature fails
    provider.user("sig-sam")
    client = Client()
    reason = "Could not find a valid JWKS" if verify_kid else "signature does not verify"
    assert_refused(sso_login(client, provider, "sig-sam"), client, caplog, reason)
    assert not User.objects.filter(username="sig-sam").exists()


def test_a_tampered_nonce_is_refused(sso, provider, caplog):
    provider.user("nonce-nina")
    client = Client()
    authorize_url = start_sign_in(client, provider)
    session = client.session
    for entry in session["oidc_states"].values():
        entry["nonce"] = "not-the-nonce-sent"
    session.save()
    r = client.get(harness.sign_in_at_provider(authorize_url, "nonce-nina"))
    assert_refused(r, client, caplog, "Nonce verification failed")


def test_an_id_token_issued_to_another_client_is_refused(sso, provider, caplog):
    provider.user("aud-ann")
    provider.issue_id_tokens_to("other-app")
    try:
        client = Client()
        assert_refused(sso_login(client, provider, "aud-ann"), client, caplog, "issued to another client")
    finally:
        provider.issue_id_tokens_to("")


def test_a_wrong_state_is_refused(sso, provider, caplog):
    provider.user("state-stan")
    client = Client()
    callback = harness.sign_in_at_provider(start_sign_in(client, provider), "state-stan")
    path, _, query = callback.partition("?")
    forged = "&".join(p if not p.startswith("state=") else "state=forged" for p in query.split("&"))
    assert_refused(client.get(f"{path}?{forged}"), client, caplog, "state not found")


def test_a_callback_without_a_started_sign_in_is_refused(sso, caplog):
    client = Client()
    assert_refused(client.get("/oidc/callback/", {"code": "x", "state": "y"}), client, caplog, "no state")


# --- SSO only -----------------------------------------------------------------------------------------


@pytest.fixture
def sso_only(settings):
    settings.OIDC_ENABLED = True
    settings.SSO_ONLY = True
    return settings


def test_sso_only_refuses_password_sign_in_on_the_web_form_and_the_admin(sso_only, admin_user, api, caplog):
    staff = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    for user in (admin_user, staff):
        client = Client()
        r = client.post("/login/", {"username": user.username, "password": "pw"})
        assert r.status_code == 200 and "Password sign-in is turned off" in r.content.decode()
        assert signed_in(client) is None
    # The admin signs in through the same page (its own login form would skip the code step).
    r = Client().post("/admin/login/", {"username": staff.username, "password": "pw"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert "Password sign-in refused (SSO_ONLY)" in caplog.text
    assert api(admin_user).get("/contacts").status_code == 200  # API tokens keep working


def test_break_glass_lets_superusers_in_with_their_password_only(sso_only, admin_user):
    sso_only.SSO_BREAK_GLASS = True
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    assert client.post("/login/", {"username": "root", "password": "pw"}).status_code == 302
    assert int(signed_in(client)) == root.pk
    r = Client().post("/login/", {"username": "root", "password": "wrong"})
    assert "Please enter a correct username and password" in r.content.decode()
    client = Client()
    r = client.post("/login/", {"username": admin_user.username, "password": "pw"})  # CRM admin, not superuser
    assert "Password sign-in is turned off" in r.content.decode() and signed_in(client) is None


def test_password_sign_in_is_untouched_without_sso_only_even_with_the_provider_down(settings, admin_user):
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # the SSO backend must not reach out for a password sign-in
    client = Client()
    assert client.post("/login/", {"username": admin_user.username, "password": "pw"}).status_code == 302


# --- Authentication strength at the provider (acr, amr) -------------------------------------------------


@pytest.fixture
def id_claims(provider):
    """Sets the acr/amr the provider puts in its ID tokens for one test."""
    yield provider.add_to_id_tokens
    provider.add_to_id_tokens({})


def test_the_required_acr_is_asked_for_and_checked(sso, provider, id_claims, caplog):
    sso.OIDC_REQUIRED_ACR = ["urn:acme:mfa", "urn:acme:hwk"]
    provider.user("acr-ada")
    asked = start_sign_in(Client(), provider)
    assert "acr_values=urn%3Aacme%3Amfa+urn%3Aacme%3Ahwk" in asked

    id_claims({"acr": "urn:acme:hwk"})
    client = Client()
    assert sso_login(client, provider, "acr-ada").status_code == 302 and signed_in(client)

    id_claims({"acr": "urn:acme:password"})
    client = Client()
    r = sso_login(client, provider, "acr-ada")
    assert_refused(r, client, caplog, "acr 'urn:acme:password' is not one of OIDC_REQUIRED_ACR", "not strong enough")
    id_claims({})  # no acr at all: refused too
    assert sso_login(Client(), provider, "acr-ada").status_code == 403


def test_the_required_amr_must_be_among_the_methods_used(sso, provider, id_claims, caplog):
    sso.OIDC_REQUIRED_AMR = ["mfa", "otp", "hwk"]
    provider.user("amr-amy")
    assert "acr_values" not in start_sign_in(Client(), provider)  # nothing asked without OIDC_REQUIRED_ACR

    id_claims({"amr": ["pwd", "otp"]})
    client = Client()
    assert sso_login(client, provider, "amr-amy").status_code == 302 and signed_in(client)

    id_claims({"amr": ["pwd"]})
    client = Client()
    r = sso_login(client, provider, "amr-amy")
    assert_refused(r, client, caplog, "amr ['pwd'] holds none of OIDC_REQUIRED_AMR", "not strong enough")
    id_claims({"amr": "otp"})  # not a list, as the specification wants: refused
    assert sso_login(Client(), provider, "amr-amy").status_code == 403


def test_acr_and_amr_settings_are_comma_lists():
    code = "from crm import settings as s; print(s.OIDC_REQUIRED_ACR, s.OIDC_REQUIRED_AMR)"
    env = os.environ | {"OIDC_REQUIRED_ACR": "urn:a:mfa, gold", "OIDC_REQUIRED_AMR": "mfa,otp"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['urn:a:mfa', 'gold'] ['mfa', 'otp']"
