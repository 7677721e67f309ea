"""Ending a user's sessions ("sign out everywhere"), and the session facts the session guard
(crm.access.middleware) checks on every request.

Why a per-user session generation and not a scan of the session table: Django's sessions have no
user index, so finding one user's sessions means loading and decoding every session of every user
(and is impossible for cache or signed-cookie sessions). Instead each session remembers the user's
generation at login; raising it on the profile is one row update however many sessions exist, and
the guard ends any session whose generation is older on its next request. API tokens are not
sessions and stay valid (revoke them with `crm token revoke` or in the admin).
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver

from crm.access.models import Account, Profile
from crm.access.policy import require_admin
from crm.audit import changelog
from crm.audit.models import Action

log = logging.getLogger("crm.signin")

GENERATION = "crm_session_generation"  # the user's generation when this session signed in
SINCE = "crm_signed_in_at"  # epoch seconds of the sign-in: the absolute lifetime counts from it
SEEN = "crm_last_seen"  # epoch seconds of the last request, updated at most once a minute


def generation_of(user_id: int) -> int:
    """0 for a user without a profile (nobody ever ended their sessions)."""
    found = Profile.objects.filter(user_id=user_id).values_list("session_generation", flat=True).first()
    return found or 0


@transaction.atomic
def sessions_end_all(user, *, actor) -> int:
    """End every session of ``user``, the one making the request included; a user may do it for
    themselves, an admin for anyone. Returns the new generation. Logged in the change log."""
    if actor.pk != user.pk:
        require_admin(actor, "other users' sessions")
    updated = Profile.objects.filter(user_id=user.pk).update(session_generation=F("session_generation") + 1)
    if not updated:  # no profile yet: one with generation 1 ends the sessions made under 0
        Profile.objects.create(user_id=user.pk, session_generation=1)
    account = Account.objects.get(pk=user.pk)
    changelog.log_event(actor, account, Action.UPDATE, {"sessions": ["", "ended"]})
    log.warning("All sessions ended: user=%s by=%s", user.get_username(), actor.get_username())
    return generation_of(user.pk)


@receiver(user_logged_in, dispatch_uid="crm.access.sessions.stamp")
def stamp_session(sender, request, user, **kwargs):
    """At sign-in (the session key was just rotated by Django's login): note the generation and the
    time, so a later "sign out everywhere" and the absolute lifetime apply to this session."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    session[GENERATION] = generation_of(user.pk)
    session[SINCE] = now
    session[SEEN] = now
