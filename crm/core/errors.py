"""Errors that services raise and every edge (API, web, import, commands) turns into a clear message.

Each carries an HTTP status so the API maps it without a table of special cases.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"

    def __init__(self, fields: dict[str, str] | str, message: str = "Some values are not valid."):
        if isinstance(fields, str):
            super().__init__(fields)
        else:
            super().__init__(message, fields=fields)


class PermissionDenied(ServiceError):
    status = 403
    code = "permission_denied"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
