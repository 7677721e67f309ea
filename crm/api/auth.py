"""Bearer tokens for programs, the Django session (with CSRF) for the browser."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from crm.access.models import ApiToken, hash_token
from crm.access.policy import remember_profile


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        # The user's profile and role come in the same query: the policy needs them on every request.
        found = (
            ApiToken.objects.select_related("user__profile__role")
            .filter(key_hash=hash_token(token), user__is_active=True)
            .first()
        )
        if found is None or (found.expires_at and found.expires_at <= timezone.now()):
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)  # at most once a minute
        user = found.user
        remember_profile(user, getattr(user, "profile", None))
        request.user = user
        request.api_token_id = found.pk  # the token's own rate-limit bucket (crm.api.throttling)
        return user


AUTH = [TokenAuth(), SessionAuth(csrf=True)]
