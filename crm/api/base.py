"""The API class: NinjaAPI whose unknown paths (/api/v1/nope, /api/v1/contacts/abc) answer with the
JSON error shape instead of the site's HTML 404 page."""

from django.http import JsonResponse
from django.urls import path
from ninja import NinjaAPI

from crm.api.errors import body


def not_found(request, rest: str = ""):
    return JsonResponse(body("not_found", f"No API endpoint at {request.path}."), status=404)


class CrmApi(NinjaAPI):
    def _get_urls(self):
        # Appended after every router, so it only catches what no endpoint matched.
        return [*super()._get_urls(), path("<path:rest>", not_found)]
