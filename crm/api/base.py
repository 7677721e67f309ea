"""The API class: NinjaAPI whose unknown paths (/api/v1/nope, /api/v1/contacts/abc) and unsupported
methods (PUT) answer with the JSON error shape instead of the site's HTML pages."""

import functools

from django.http import JsonResponse
from django.urls import URLPattern, path
from ninja import NinjaAPI

from crm.api.errors import body


def not_found(request, rest: str = ""):
    return JsonResponse(body("not_found", f"No API endpoint at {request.path}."), status=404)


def json_405(view):
    """Ninja answers a method an endpoint lacks with a bare HTML 405; give the JSON shape and Allow."""

    @functools.wraps(view)  # keeps csrf_exempt: Ninja checks CSRF itself, for session auth only
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            message = f"{request.method} is not allowed here; use {allowed}." if allowed else "Method not allowed."
            return JsonResponse(body("method_not_allowed", message), status=405, headers={"Allow": allowed})
        return response

    return wrapper


class CrmApi(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """The handler's name ("global_search", "create_rule"): what a generated client names its method.
        The record endpoints name theirs from the type (crm.api.crud); tests check every id is unique."""
        return operation.view_func.__name__

    def _get_urls(self):
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = json_405(url.callback)
        # Appended after every router, so it only catches what no endpoint matched.
        return [*urls, path("<path:rest>", not_found)]
