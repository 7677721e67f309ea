"""The session guard: ends a signed-in session that is too old, has been idle too long, or was ended
by "sign out everywhere" (crm.access.sessions), before the view runs.

Django alone expires a session SESSION_COOKIE_AGE after its last save, and our last-seen write
would slide that forward on an active session; the guard keeps the lifetime absolute (counted from
the sign-in) and adds the idle timeout. The last-seen time is written at most once a minute, so an
active user costs one session write a minute, not one per request.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import logout

from crm.access import sessions

log = logging.getLogger("crm.signin")

SEEN_WRITE_EVERY = 60  # seconds


class SessionGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = self.check(request, user)
            if reason:
                log.warning("Session ended (%s): user=%s", reason, user.get_username())
                logout(request)  # the view then sees an anonymous user and sends them to sign in
        return self.get_response(request)

    @staticmethod
    def check(request, user) -> str | None:
        """Why the session must end, or None (then last-seen is refreshed when a minute old)."""
        session, now = request.session, int(time.time())
        since, seen = session.get(sessions.SINCE), session.get(sessions.SEEN)
        if since is None:  # signed in before the guard existed: the lifetime counts from now
            session[sessions.SINCE] = since = now
        if now - since > settings.SESSION_COOKIE_AGE:
            return "lifetime"
        if seen is not None and now - seen > settings.SESSION_IDLE_MINUTES * 60:
            return "idle"
        # A session without a generation predates the guard: it is as old as generation 0.
        if session.get(sessions.GENERATION, 0) != sessions.generation_of(user.pk):
            return "signed out everywhere"
        if seen is None or now - seen >= SEEN_WRITE_EVERY:
            session[sessions.SEEN] = now
        return None
