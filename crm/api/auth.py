"""Bearer tokens for programs, the Django session (with CSRF) for the browser."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from crm.access.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        found = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token), user__is_active=True).first()
        if found is None or (found.expires_at and found.expires_at <= timezone.now()):
            return None
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)  # at most once a minute
        request.user = found.user
        return found.user


AUTH = [TokenAuth(), SessionAuth(csrf=True)]
