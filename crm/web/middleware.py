"""Render dates in the signed-in user's time zone (Profile.time_zone, else settings.TIME_ZONE)."""

import zoneinfo

from django.utils import timezone

from crm.access.models import Profile


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz = None
        user = getattr(request, "user", None)
        # The API returns ISO timestamps with offsets; only pages need the user's zone.
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            tz = _zone_of(user)
        if tz is None:
            return self.get_response(request)
        timezone.activate(tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _zone_of(user):
    name = Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
