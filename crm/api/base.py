"""The API class: NinjaAPI whose unknown paths (/api/v1/nope, /api/v1/contacts/abc) and unsupported
methods (PUT) answer with the JSON error shape instead of the site's HTML pages."""

import functools

from django.http import JsonResponse
from django.urls import URLPattern, path
from ninja import NinjaAPI

from crm.api import media_types
from crm.api.errors import ErrorOut, body
from crm.api.openapi import declare_lists, declare_record_type_names
from crm.api.throttling import limit_view


def _without_defs(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k != "$defs"}


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


# The errors each kind of operation can answer, all in the one shape (crm.api.errors.ErrorOut):
# declared in the OpenAPI document so a generated client knows them.
ERRORS_BY_METHOD = {
    "get": (400, 401, 403, 404, 429),
    "post": (400, 401, 403, 404, 409, 415, 422, 429),
    "patch": (400, 401, 403, 404, 409, 415, 422, 429),
    "put": (400, 401, 403, 404, 409, 415, 422, 429),
    "delete": (400, 401, 403, 404, 409, 429),
}
ERROR_TEXT = {
    400: "Bad request (a filter, parameter or file that cannot be used)",
    401: "Not signed in, or a bad token",
    403: "Not allowed",
    404: "Not found, or not visible to you",
    409: "Conflict (the record changed since you read it)",
    415: "The body is not of the type this operation takes (Content-Type)",
    422: "Invalid input (fields names each problem)",
    429: "Too many requests (crm.api.throttling); Retry-After says how many seconds to wait",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}


class CrmApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        declare_lists(schema)
        declare_record_type_names(schema)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(
            ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"]
            | {"ErrorOut": _without_defs(ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))}
        )
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in ERRORS_BY_METHOD.get(method, ()):
                    if status == 401 and not operation.get("security"):
                        continue  # public: no sign-in to fail
                    if status == 415 and "requestBody" not in operation:
                        continue  # no body to send in the wrong type (crm.api.media_types)
                    extra = {"headers": RETRY_AFTER} if status == 429 else {}
                    responses.setdefault(status, {"description": ERROR_TEXT[status], **ref, **extra})
        return schema

    def get_openapi_operation_id(self, operation) -> str:
        """The handler's name ("global_search", "create_rule"): what a generated client names its method.
        The record endpoints name theirs from the type (crm.api.crud); tests check every id is unique."""
        return operation.view_func.__name__

    def _get_urls(self):
        urls = super()._get_urls()
        for bound in self._get_bound_routers():  # the operations the URLs just made will run
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    media_types.guard(operation)
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = limit_view(json_405(url.callback))
        # Appended after every router, so it only catches what no endpoint matched.
        return [*urls, path("<path:rest>", limit_view(not_found))]
