"""Passkeys (WebAuthn, through py_webauthn): register one from the Security page, sign in with one as
the second factor after the password, or without a password when the authenticator keeps the
credential and verified the user (fingerprint, face, PIN).

Every ceremony has a challenge made here and kept by the caller (the session) as a *state*: it names
its purpose and user and dies after PASSKEY_CHALLENGE_SECONDS; the view pops it before checking, so it
is used once whatever the outcome, and a replayed response finds no challenge to match. The relying
party id and the accepted origins come from settings (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS), never from
the request. Adding and removing a passkey leave a change-log row on the user, naming the passkey.
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from crm.access import twofactor
from crm.access.models import Passkey
from crm.core.errors import PermissionDenied, ValidationFailed

log = logging.getLogger("crm.signin")

REGISTER, SIGN_IN = "register", "sign-in"
NOT_ACCEPTED = "The passkey was not accepted."
_BAD_INPUT = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)  # malformed JSON/CBOR


def has_passkey(user) -> bool:
    return Passkey.objects.filter(user_id=user.pk, confirmed=True).exists()


def passkeys_of(user) -> list[Passkey]:
    return list(Passkey.objects.filter(user_id=user.pk, confirmed=True))


def user_handle(user) -> bytes:
    """WebAuthn's user.id: opaque and stable, no name or email (the spec asks for none)."""
    return f"crm-user-{user.pk}".encode()


# --- Challenges --------------------------------------------------------------------------------------


def _state(purpose: str, challenge: bytes, user) -> dict:
    return {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user": getattr(user, "pk", None),
        "at": time.time(),
    }


def _challenge(state, purpose: str, user) -> bytes:
    """The challenge a response must sign, when ``state`` is one of this purpose and user, still fresh."""
    fresh = isinstance(state, dict) and time.time() - float(state.get("at", 0)) <= settings.PASSKEY_CHALLENGE_SECONDS
    if not fresh or state.get("purpose") != purpose or state.get("user") != getattr(user, "pk", None):
        raise ValidationFailed({"credential": "The passkey request expired or was already used: try again."})
    return base64url_to_bytes(state["challenge"])


# --- Registration, by the user themself -------------------------------------------------------------


def registration_options(user, *, actor) -> tuple[str, dict]:
    """(options JSON for navigator.credentials.create, state to keep until the response comes)."""
    _require_self(user, actor)
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_name=user.get_username(),
        user_id=user_handle(user),
        user_display_name=user.get_full_name() or user.get_username(),
        exclude_credentials=[_descriptor(p) for p in passkeys_of(user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        timeout=settings.PASSKEY_CHALLENGE_SECONDS * 1000,
    )
    return options_to_json(options), _state(REGISTER, options.challenge, user)


def passkey_register(user, *, actor, name: str, credential: str, state, password: str) -> Passkey:
    """Needs the password again (a stolen open session alone cannot add a way in) and an attestation
    over this state's challenge from one of our origins."""
    _require_self(user, actor)
    _check_password(user, password)
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed({"name": "Name the passkey (at most 64 characters), e.g. “Work laptop”."})
    challenge = _challenge(state, REGISTER, user)
    try:
        verified = verify_registration_response(
            credential=credential or "",
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=list(settings.WEBAUTHN_ORIGINS),
        )
    except _BAD_INPUT as exc:
        log.warning("Passkey registration refused: user=%r reason=%s", user.get_username(), exc)
        raise ValidationFailed({"credential": NOT_ACCEPTED}) from exc
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user_id=user.pk,
                name=name,
                credential_id=verified.credential_id,
                credential_key=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=_transports(credential),
            )
            twofactor.log_account(actor, user, {"passkeys": ["", f"added “{name}”"]})
    except IntegrityError as exc:
        raise ValidationFailed({"credential": "This passkey is already registered."}) from exc
    return passkey


@transaction.atomic
def passkey_remove(user, *, actor, passkey_id: int, password: str) -> None:
    """Removed by its owner, with the password; refused when it is the last second factor of a user whose
    role requires one."""
    _require_self(user, actor)
    _check_password(user, password)
    passkey = Passkey.objects.select_for_update().filter(user_id=user.pk, pk=passkey_id).first()
    if passkey is None:
        raise ValidationFailed("There is no such passkey.")
    others = Passkey.objects.filter(user_id=user.pk).exclude(pk=passkey.pk).exists()
    if twofactor.is_required(user) and not others and not twofactor.is_enabled(user):
        raise PermissionDenied("Your role requires two-factor sign-in: add another passkey or an app first.")
    passkey.delete()
    twofactor.log_account(actor, user, {"passkeys": [f"“{passkey.name}”", "removed"]})


# --- Sign-in -------------------------------------------------------------------------------------------


def sign_in_options(user=None) -> tuple[str, dict]:
    """Options for navigator.credentials.get: the user's passkeys after their password, or (``user``
    None) any discoverable passkey of this site, which must then verify the user itself."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        allow_credentials=[_descriptor(p) for p in passkeys_of(user)] if user is not None else [],
        user_verification=UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED,
        timeout=settings.PASSKEY_CHALLENGE_SECONDS * 1000,
    )
    return options_to_json(options), _state(SIGN_IN, options.challenge, user)


def owner_of(credential: str):
    """The user whose passkey answered (to check their lockout first), or None."""
    passkey = _find(credential)
    return passkey.user if passkey is not None else None


def verify_sign_in(credential: str, *, state, user=None) -> Passkey:
    """The passkey when ``credential`` is a valid assertion over the state's challenge, by a passkey of
    ``user`` (or of anyone when None: passwordless, user verification required), with a sign counter
    above the last one seen (unless the authenticator keeps none: both 0). Raises ValidationFailed."""
    challenge = _challenge(state, SIGN_IN, user)
    passkey = _find(credential)
    if passkey is None or (user is not None and passkey.user_id != user.pk):
        raise ValidationFailed({"credential": "This passkey is not registered for this account."})
    with transaction.atomic():
        passkey = Passkey.objects.select_for_update().select_related("user").get(pk=passkey.pk)
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=settings.WEBAUTHN_RP_ID,
                expected_origin=list(settings.WEBAUTHN_ORIGINS),
                credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=user is None,
            )
            _check_user_handle(credential, passkey)
        except _BAD_INPUT as exc:
            log.warning("Passkey sign-in refused: user=%r reason=%s", passkey.user.get_username(), exc)
            raise ValidationFailed({"credential": NOT_ACCEPTED}) from exc
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "last_used_at"])
    return passkey


def _find(credential: str) -> Passkey | None:
    try:
        parsed = parse_authentication_credential_json(credential or "")
    except _BAD_INPUT:
        return None
    key = bytes_to_base64url(parsed.raw_id)
    return Passkey.objects.select_related("user").filter(credential_key=key, confirmed=True).first()


def _check_user_handle(credential: str, passkey: Passkey) -> None:
    handle = parse_authentication_credential_json(credential).response.user_handle
    if handle is not None and bytes(handle) != user_handle(passkey.user):
        raise ValidationFailed({"credential": NOT_ACCEPTED})


# --- Helpers ---------------------------------------------------------------------------------------------


def _require_self(user, actor) -> None:
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied("Only the user themself may manage their passkeys.")


def _check_password(user, password: str) -> None:
    if not user.has_usable_password():
        raise PermissionDenied("Passkeys need a password of your own: your account signs in through SSO only.")
    if not user.check_password(password or ""):
        raise ValidationFailed({"password": "Wrong password."})


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    known = {t.value for t in AuthenticatorTransport}
    transports = [AuthenticatorTransport(t) for t in passkey.transports if t in known]
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports or None)


def _transports(credential: str) -> list[str]:
    try:
        found = json.loads(credential).get("response", {}).get("transports") or []
    except (ValueError, AttributeError):
        return []
    return [str(t)[:16] for t in found if isinstance(t, str)][:8]
