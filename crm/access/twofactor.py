"""Two-factor sign-in (TOTP, RFC 6238, through django-otp) and its one-use recovery codes.

A user turns it on for themself (enrolment: an unconfirmed device, confirmed with a first code),
makes new recovery codes or turns it off with a current code; an admin resets it for someone who lost
their phone. Each of these writes is checked here and leaves a change-log row on the user (as an
``Account``, like a password change): what happened, never a secret. The TOTP key stays in
django-otp's table; recovery codes are stored as keyed hashes only and shown once, when made.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.access.models import Account, Passkey, Profile, RecoveryCode
from crm.access.policy import require_admin
from crm.audit import changelog
from crm.audit.models import Action
from crm.core.errors import PermissionDenied, ValidationFailed

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code read off paper is typed back without guessing. 31 signs, 8 of them: ~40 bits,
# behind sign-in throttling and a keyed hash, so the table alone does not give them away.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
WRONG_CODE = "Wrong code."


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def is_enabled(user) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def has_second_factor(user) -> bool:
    """An authenticator app or a passkey: the sign-in asks for one of them after the password."""
    return is_enabled(user) or Passkey.objects.filter(user_id=user.pk, confirmed=True).exists()


def is_required(user) -> bool:
    """The user's role asks for a second factor."""
    return Profile.objects.filter(user_id=user.pk, role__requires_two_factor=True).exists()


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()


# --- Enrolment, by the user themself ----------------------------------------------------------


def _require_self(user, actor) -> None:
    if actor is None or actor.pk != user.pk:
        raise PermissionDenied("Only the user themself may set up their two-factor sign-in.")


@transaction.atomic
def enrolment_start(user, *, actor) -> TOTPDevice:
    """The user's unconfirmed device (a new random key), kept until confirmed: reloading the page shows
    the same QR code, so a scan already made stays good."""
    _require_self(user, actor)
    if is_enabled(user):
        raise ValidationFailed("Two-factor sign-in is already on.")
    pending = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user_id=user.pk, name="Authenticator app", confirmed=False)
    return pending


def enrolment_confirm(user, *, actor, code: str) -> tuple[TOTPDevice, list[str]]:
    """The first code from the app proves the scan worked: the device is confirmed and the first
    recovery codes are made (returned raw, to be shown once)."""
    _require_self(user, actor)
    # A wrong code raises only after the block: its throttle count must be committed, not rolled back.
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=False).order_by("pk").first()
        if device is None or is_enabled(user):
            raise ValidationFailed("Start the set-up again: there is no device waiting for a code.")
        error = _totp_error(device, code)
        if error is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
            codes = _new_recovery_codes(user)
            log_account(actor, user, {"two_factor": ["off", "on"]})
    if error:
        raise ValidationFailed({"code": error})
    return device, codes


def recovery_codes_regenerate(user, *, actor, code: str) -> list[str]:
    """New codes for old (the old ones stop working), after a current code from the app."""
    _require_self(user, actor)
    with transaction.atomic():
        error = _totp_error(_locked_device(user), code)
        if error is None:
            codes = _new_recovery_codes(user)
            log_account(actor, user, {"recovery_codes": ["", "regenerated"]})
    if error:
        raise ValidationFailed({"code": error})
    return codes


def two_factor_disable(user, *, actor, password: str, code: str) -> None:
    """Needs the password and a current code (app or recovery): a stolen open session alone cannot turn
    it off. Refused while the user's role requires it."""
    _require_self(user, actor)
    if is_required(user):
        raise PermissionDenied("Your role requires two-factor sign-in: it cannot be turned off.")
    if not user.check_password(password or ""):
        raise ValidationFailed({"password": "Wrong password."})
    with transaction.atomic():
        error = _code_error(user, _locked_device(user), code)
        if error is None:
            _remove(user)
            log_account(actor, user, {"two_factor": ["on", "off"]})
    if error:
        raise ValidationFailed({"code": error})


# --- Reset, by an admin or the operator --------------------------------------------------------


@transaction.atomic
def two_factor_reset(user, *, actor) -> bool:
    """An admin removes a user's devices (app and passkeys) and recovery codes (a lost phone): the user
    signs in with the password alone, or is sent to enrol again if their role requires it. False: there was
    nothing on."""
    require_admin(actor, "two-factor sign-in")
    return _reset(user, actor)


@transaction.atomic
def two_factor_reset_by_operator(*, user) -> bool:
    """From `crm twofactor-reset` (whoever runs it owns the installation, as tokens_revoke_by_operator);
    the change-log row names the user as actor."""
    return _reset(user, user)


def _reset(user, actor) -> bool:
    had = any(m.objects.filter(user_id=user.pk).exists() for m in (TOTPDevice, RecoveryCode, Passkey))
    if had:
        _remove(user)
        Passkey.objects.filter(user_id=user.pk).delete()  # a lost phone may hold the passkeys too
        log_account(actor, user, {"two_factor": ["on", "reset"]})
    return had


def _remove(user) -> None:
    # A new device gets a new key, so a "remember this device" cookie of the old one stops working.
    TOTPDevice.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.filter(user_id=user.pk).delete()


# --- The code step of sign-in --------------------------------------------------------------------


def verify_sign_in_code(user, code: str) -> TOTPDevice:
    """The user's confirmed device when ``code`` is a current TOTP code (each time step is accepted
    once: django-otp keeps the last one in ``last_t``) or an unused recovery code (used up now).
    Raises ValidationFailed otherwise; wrong codes slow further tries down (django-otp's throttle)."""
    with transaction.atomic():
        device = _locked_device(user)
        error = _code_error(user, device, code)
    if error:
        raise ValidationFailed({"code": error})
    return device


def _locked_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.select_for_update().filter(user_id=user.pk, confirmed=True).order_by("pk").first()
    if device is None:
        raise ValidationFailed("Two-factor sign-in is not on.")
    return device


def _code_error(user, device: TOTPDevice, code: str) -> str | None:
    """None when ``code`` is a current TOTP code or an unused recovery code (used up now), else why not."""
    cleaned = "".join((code or "").split()).lower()
    if cleaned.isdigit() and len(cleaned) == device.digits:
        return _totp_error(device, cleaned)
    if throttled := _throttled(device):
        return throttled
    if cleaned and _use_recovery_code(user, cleaned):
        return None
    device.throttle_increment(commit=True)  # guessing recovery codes is slowed down like TOTP codes
    return WRONG_CODE


def _totp_error(device: TOTPDevice, code: str) -> str | None:
    if throttled := _throttled(device):
        return throttled
    cleaned = "".join((code or "").split())
    if cleaned.isdigit() and len(cleaned) == device.digits:
        return None if device.verify_token(cleaned) else WRONG_CODE  # a wrong one counts in verify_token
    device.throttle_increment(commit=True)
    return WRONG_CODE


def _throttled(device: TOTPDevice) -> str | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    if (data or {}).get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        wait = max(1, int((data["locked_until"] - timezone.now()).total_seconds()) + 1)
        return f"Too many wrong codes: try again in {wait} seconds."
    return WRONG_CODE


# --- Recovery codes ---------------------------------------------------------------------------------


def _new_recovery_codes(user) -> list[str]:
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    codes = [_random_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(user_id=user.pk, code_hash=code_hash(user.pk, c)) for c in codes)
    return codes


def _random_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(user_id: int, code: str, secret: str | None = None) -> str:
    """HMAC-SHA256 keyed with SECRET_KEY, over the user's id and the code without its dash: the same
    code of two users hashes differently, and the table alone cannot be searched for codes."""
    normal = code.replace("-", "").lower()
    return salted_hmac("crm.access.recovery_code", f"{user_id}:{normal}", secret=secret, algorithm="sha256").hexdigest()


def _use_recovery_code(user, code: str) -> bool:
    # Hashes under the current key and the fallbacks, so rotating SECRET_KEY keeps the codes working.
    secrets_ = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    hashes = [code_hash(user.pk, code, s) for s in secrets_]
    found = (
        RecoveryCode.objects.select_for_update()
        .filter(user_id=user.pk, code_hash__in=hashes, used_at__isnull=True)
        .first()
    )
    if found is None or not any(constant_time_compare(found.code_hash, h) for h in hashes):
        return False
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    log_account(user, user, {"recovery_codes": ["", "one used"]})
    return True


def log_account(actor, user, changes: dict) -> None:
    """A change-log row on the user (as an ``Account``) saying what changed, never a secret."""
    changelog.log_event(actor, Account.objects.get(pk=user.pk), Action.UPDATE, changes)
