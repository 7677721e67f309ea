"""Response headers Django does not set itself (the Content-Security-Policy comes from django-csp)."""

import functools

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class PermissionsPolicyMiddleware:
    """Turn off browser features the CRM never uses, so injected content cannot ask for them either."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)
        return response


class NoStoreMiddleware:
    """Answers to a signed-in user (a page, or the API with a token or a session) hold customer data: no
    browser or proxy cache keeps them (ASVS 14.3.2). A view that set its own Cache-Control keeps it;
    static files never reach here (whitenoise answers them first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


def clear_site_data(view):
    """Signing out also tells the browser to drop what it kept of the session: cached pages and the
    tab's storage (htmx's history snapshots), ASVS 14.3.1."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response

    return wrapper
