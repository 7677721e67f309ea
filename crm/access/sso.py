"""Single sign-on with OpenID Connect: mozilla-django-oidc does the code flow; this module adds what
it leaves out (discovery, audience and issuer checks), finds our user by the provider's subject, makes
one just in time when allowed, and applies the provider's groups as role and team at every sign-in.

Every refusal is an ``SsoRefused``: logged at warning level with its reason, and shown to the person
as its ``public`` message by the callback view (crm/access/sso_views.py)."""

from __future__ import annotations

import hashlib
import logging
import re
import time

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from crm.access import accounts
from crm.access.models import Role, SsoIdentity, Team
from crm.core.errors import ValidationFailed

log = logging.getLogger("crm.access.sso")

FAILED = "Sign-in with SSO failed."
# Our setting -> the discovery document's key, for endpoints not configured one by one.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_TTL = 3600.0
_discovery_cache: dict[str, tuple[float, dict]] = {}


class SsoRefused(Exception):
    """``reason``: for the log (may name claims and endpoints); ``public``: for the person signing in."""

    def __init__(self, reason: str, public: str = FAILED):
        super().__init__(reason)
        self.reason = reason
        self.public = public


# --- Settings -------------------------------------------------------------------------------------


def discovery_url() -> str:
    if settings.OIDC_DISCOVERY_URL:
        return settings.OIDC_DISCOVERY_URL
    if settings.OIDC_ISSUER:
        return settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
    return ""


def discovery() -> dict:
    """The provider's discovery document, fetched on first need and kept an hour per process (not at
    start-up: a provider that is down must not stop the CRM, nor password sign-in)."""
    url = discovery_url()
    if not url:
        return {}
    cached = _discovery_cache.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    try:
        verify = import_from_settings("OIDC_VERIFY_SSL", True)
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT, verify=verify)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoRefused(f"discovery document {url} unavailable: {exc}", "The sign-in service is unavailable.")
    if settings.OIDC_ISSUER and document.get("issuer") != settings.OIDC_ISSUER:
        raise SsoRefused(f"discovery document names issuer {document.get('issuer')!r}, not {settings.OIDC_ISSUER!r}")
    _discovery_cache[url] = (time.monotonic(), document)
    return document


def sso_setting(attr: str, *default):
    """mozilla-django-oidc's settings lookup, with endpoints from discovery when not set one by one."""
    if attr in DISCOVERED and not getattr(settings, attr, ""):
        value = discovery().get(DISCOVERED[attr])
        if not value:
            raise SsoRefused(f"{attr} is not set and discovery does not give {DISCOVERED[attr]}")
        return value
    if attr == "OIDC_CREATE_USER":
        return settings.OIDC_CREATE_USERS
    return import_from_settings(attr, *default)


def expected_issuer() -> str | None:
    """The ``iss`` ID tokens must carry: configured, else the discovery document's; None (unchecked)
    only with endpoints configured one by one and no issuer."""
    return settings.OIDC_ISSUER or discovery().get("issuer") or None


# --- The backend ----------------------------------------------------------------------------------


class SsoBackend(OIDCAuthenticationBackend):
    """Answers only the callback's authenticate(request, nonce=..., code_verifier=...); a password
    sign-in passes it by. Endpoints are read at the callback, not at construction: Django builds the
    backend for every request's session user and every password sign-in."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    def _configure(self) -> None:
        for name in DISCOVERED:
            setattr(self, name, self.get_settings(name))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request, **kwargs):
        callback = "nonce" in kwargs and not set(kwargs) - {"nonce", "code_verifier"}
        if not settings.OIDC_ENABLED or request is None or not callback:
            return None
        try:
            self._configure()
            return super().authenticate(request, **kwargs)
        except SsoRefused as refusal:
            request.sso_refusal = refusal
        except SuspiciousOperation as exc:  # mozilla-django-oidc's: bad nonce, unknown key, wrong algorithm
            request.sso_refusal = SsoRefused(str(exc))
        except requests.RequestException as exc:  # the token or userinfo endpoint refused or is down
            request.sso_refusal = SsoRefused(f"provider request failed: {exc}")
        return None

    def get_user(self, user_id):
        # ModelBackend's: an inactive user's session ends. SSO sessions end too when SSO is turned off.
        return ModelBackend.get_user(self, user_id) if settings.OIDC_ENABLED else None

    def _verify_jws(self, payload, key):
        """mozilla-django-oidc skips the audience; we check signature, audience, issuer and expiry."""
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=expected_issuer(),
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            raise SsoRefused("ID token signature does not verify with the provider's key")
        except jwt.InvalidAudienceError:
            raise SsoRefused(f"ID token was issued to another client (audience {_claim(payload, 'aud')!r})")
        except jwt.InvalidIssuerError:
            raise SsoRefused(f"ID token issuer {_claim(payload, 'iss')!r} is not {expected_issuer()!r}")
        except jwt.InvalidTokenError as exc:
            raise SsoRefused(f"ID token refused: {exc}")

    def verify_token(self, token, **kwargs):
        try:
            return super().verify_token(token, **kwargs)
        except jwt.InvalidTokenError as exc:  # a header that does not parse
            raise SsoRefused(f"ID token refused: {exc}")
        except SuspiciousOperation as exc:
            raise SsoRefused(str(exc))

    def get_or_create_user(self, access_token, id_token, payload):
        check_strength(payload)  # the verified ID token's claims, before any user is looked at
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SsoRefused("userinfo is about another subject than the ID token")
        # Groups may come in the ID token only (Entra ID), names from userinfo: both, userinfo last.
        return sign_in(payload["iss"], {**payload, **userinfo})


def _claim(token: str, name: str):
    try:
        return jwt.decode(token, options={"verify_signature": False}).get(name)
    except jwt.InvalidTokenError:
        return None


# --- Authentication strength ----------------------------------------------------------------------

WEAK = "Your sign-in at the identity provider was not strong enough for the CRM (for example, no second factor)."


def acr_values() -> dict:
    """What the authentication request asks for (OIDC_REQUIRED_ACR as ``acr_values``)."""
    return {"acr_values": " ".join(settings.OIDC_REQUIRED_ACR)} if settings.OIDC_REQUIRED_ACR else {}


def check_strength(id_claims: dict) -> None:
    """The ID token (not userinfo: only the signed token vouches for how the person signed in) must carry
    an ``acr`` of OIDC_REQUIRED_ACR and an ``amr`` holding one of OIDC_REQUIRED_AMR. A provider may
    ignore ``acr_values``, so what it answers is checked, not what was asked."""
    required_acr, required_amr = settings.OIDC_REQUIRED_ACR, settings.OIDC_REQUIRED_AMR
    if required_acr and id_claims.get("acr") not in required_acr:
        raise SsoRefused(f"ID token acr {id_claims.get('acr')!r} is not one of OIDC_REQUIRED_ACR {required_acr}", WEAK)
    if required_amr:
        amr = id_claims.get("amr")
        methods = amr if isinstance(amr, list) else []
        if not set(map(str, methods)) & set(required_amr):
            raise SsoRefused(f"ID token amr {amr!r} holds none of OIDC_REQUIRED_AMR {required_amr}", WEAK)


# --- Matching, provisioning and mapping -----------------------------------------------------------


def sign_in(issuer: str, claims: dict):
    """The user these verified claims are, after applying the group mapping; SsoRefused otherwise."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoRefused("claims carry no subject")
    access = mapped_access(claims)
    identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
    user = identity.user if identity else _link_by_email(issuer, subject, claims)
    try:
        if user is None:
            if not settings.OIDC_CREATE_USERS:
                raise SsoRefused(
                    f"no user for subject {subject!r} at {issuer} and OIDC_CREATE_USERS is off",
                    "There is no CRM account for you yet. Ask an administrator to create one.",
                )
            data = {**new_user_data(issuer, claims), **access}
            return _first_user(issuer, subject, data)
        if not user.is_active:
            raise SsoRefused(f"user {user.username} is inactive", "Your CRM account is deactivated.")
        if access:
            accounts.sso_access_sync(user, data=access)
    except ValidationFailed as exc:
        raise SsoRefused(f"the provider's claims do not make a valid user: {exc}")
    return user


def _first_user(issuer: str, subject: str, data: dict):
    """The user made at a person's first sign-in. Two first sign-ins of one person at once (two tabs, a
    double click) both found no identity: the loser's insert meets the username or the identity's unique
    constraint, and it signs in as the user the winner made instead of failing."""
    try:
        with transaction.atomic():
            user = accounts.sso_user_create(data=data, issuer=issuer, subject=subject)
    except (IntegrityError, ValidationFailed):
        identity = SsoIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        if identity is None:
            raise
        log.info("SSO: subject %r at %s was created by a simultaneous sign-in", subject, issuer)
        return identity.user
    log.info("SSO: created user %s for subject %r at %s", user.username, subject, issuer)
    return user


def _link_by_email(issuer: str, subject: str, claims: dict):
    """First sign-in of an existing user, when OIDC_LINK_BY_EMAIL allows it: one user with this email,
    which the provider says it verified, and no identity at this issuer yet."""
    email = claims.get("email")
    if not settings.OIDC_LINK_BY_EMAIL or not email or claims.get("email_verified") is not True:
        return None
    users = list(get_user_model().objects.filter(email__iexact=email)[:2])
    if len(users) != 1:
        if users:
            log.warning("SSO: %d users have the email %s; not linking subject %r", len(users), email, subject)
        return None
    if SsoIdentity.objects.filter(user=users[0], issuer=issuer).exists():
        raise SsoRefused(f"user {users[0].username} is linked to another subject at {issuer}")
    accounts.sso_identity_link(users[0], issuer=issuer, subject=subject)
    return users[0]


def mapped_access(claims: dict) -> dict:
    """``role`` and ``team`` from the groups claim, for the mappings configured: the first listed group
    the user has wins; none of them: the default role, and no team. A mapping not configured leaves
    that field alone (an admin sets it). A mapped role or team that does not exist refuses sign-in."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    elif not isinstance(groups, list):
        raise SsoRefused(f"the {settings.OIDC_GROUPS_CLAIM!r} claim is not a list: {groups!r}")
    groups = {str(g) for g in groups}
    access = {}
    if settings.OIDC_GROUP_ROLES:
        slug = next((r for g, r in settings.OIDC_GROUP_ROLES.items() if g in groups), settings.OIDC_DEFAULT_ROLE)
        access["role"] = _named(Role, slug=slug) if slug else None
    if settings.OIDC_GROUP_TEAMS:
        name = next((t for g, t in settings.OIDC_GROUP_TEAMS.items() if g in groups), None)
        access["team"] = _named(Team, name=name) if name else None
    return access


def _named(model, **lookup):
    found = model.objects.filter(**lookup).first()
    if found is None:
        log.error("SSO configuration names a %s that does not exist: %s", model.__name__, lookup)
        raise SsoRefused(f"configured {model.__name__} {lookup} does not exist")
    return found


def new_user_data(issuer: str, claims: dict) -> dict:
    data = {
        "username": _free_username(issuer, claims),
        "email": claims.get("email") or "",
        "first_name": (claims.get("given_name") or "")[:150],
        "last_name": (claims.get("family_name") or "")[:150],
    }
    if settings.OIDC_DEFAULT_ROLE and not settings.OIDC_GROUP_ROLES:
        data["role"] = _named(Role, slug=settings.OIDC_DEFAULT_ROLE)
    return data


def _free_username(issuer: str, claims: dict) -> str:
    """preferred_username (or the email's local part) in Django's username alphabet; taken by someone
    else: with a suffix from the subject, so an existing user is never matched by name."""
    wanted = claims.get("preferred_username") or (claims.get("email") or "").split("@")[0] or "sso-user"
    base = re.sub(r"[^\w.@+-]", "-", str(wanted))[:120] or "sso-user"
    users = get_user_model().objects
    if not users.filter(username__iexact=base).exists():
        return base
    digest = hashlib.sha256(f"{issuer} {claims['sub']}".encode()).hexdigest()
    return f"{base}-{digest[:8]}"
