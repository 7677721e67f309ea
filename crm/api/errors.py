"""Every API error has one shape: {"error": {"code", "message", "fields"}}, never a bare 500."""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from crm.api.patterns import MESSAGES
from crm.core.errors import ServiceError

log = logging.getLogger("crm.api")

CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_failed",
    429: "throttled",
}


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Schema):
    """What every error answers (the OpenAPI document declares it for each error status)."""

    error: ErrorDetail


def body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def field_path(loc) -> str:
    """The field path a client sent: list indexes kept, pydantic's union-member tags
    ("literal['a','b']", "function-after[...]", "constrained-str") dropped."""
    parts = [
        str(p)
        for p in loc
        if p not in ("body", "payload", "query", "path") and not (isinstance(p, str) and _is_union_tag(p))
    ]
    return ".".join(parts) or "body"


def _is_union_tag(part: str) -> bool:
    return any(ch in part for ch in "[(-") or part in {"str", "int", "float", "bool", "decimal", "none", "list", "dict"}


def message_of(err: dict) -> str:
    if err.get("type") == "string_pattern_mismatch":
        return MESSAGES.get(err.get("ctx", {}).get("pattern"), "Not in the form the API schema gives for this field.")
    return err.get("msg", "Invalid value.")


def install(api) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        return api.create_response(request, exc.as_dict(), status=exc.status)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields = {}
        for err in exc.errors:
            fields.setdefault(field_path(err.get("loc", ())), message_of(err))
        return api.create_response(request, body("validation_failed", "Some values are not valid.", fields), status=422)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, body("unauthenticated", "Log in, or send 'Authorization: Bearer <token>'."), status=401
        )

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        code = CODES.get(exc.status_code, "error")
        return api.create_response(request, body(code, str(exc)), status=exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, body("not_found", "Not found."), status=404)

    @api.exception_handler(DjangoPermissionDenied)
    def forbidden(request, exc):
        return api.create_response(request, body("permission_denied", str(exc) or "Not allowed."), status=403)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return api.create_response(
            request, body("too_large", f"The request body is larger than {limit} bytes; send less at once."), status=413
        )

    @api.exception_handler(Exception)
    def unexpected(request, exc):
        log.exception("Unhandled API error on %s %s", request.method, request.path)
        return api.create_response(
            request,
            body("server_error", f"Something went wrong on our side (request {getattr(request, 'id', '')})."),
            status=500,
        )
