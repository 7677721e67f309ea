"""Request bodies in the type an operation reads, else 415 (the one place this is checked: CrmApi).

Ninja parses a JSON body whatever Content-Type says, so ``text/plain`` (what a cross-site form or a
careless client sends) would be read as JSON. An operation that takes a JSON body gets only
``application/json`` (any charset: JSON is UTF-8, json.loads detects the rest); one that takes files
gets ``multipart/form-data``; a form-only one that or ``application/x-www-form-urlencoded``. An
operation that declares no body (a DELETE, a POST that only acts, the public form endpoint that reads
either kind itself) is left as it is. No body at all is never refused here: a required body is a 422.
``application/merge-patch+json`` is refused too: PATCH here is a plain partial JSON update, not RFC
7396 (a null sets a field to null rather than deleting it).
"""

from __future__ import annotations

import functools

from django.http import JsonResponse
from ninja.params.models import BodyModel, FileModel, FormModel, _MultiPartBodyModel

from crm.api.errors import body

JSON = frozenset({"application/json"})
MULTIPART = frozenset({"multipart/form-data"})
FORM = MULTIPART | {"application/x-www-form-urlencoded"}


def accepted_types(operation) -> frozenset[str] | None:
    """What an operation's body may be sent as; None when it declares no body."""
    models = operation.models
    if any(issubclass(m, (FileModel, _MultiPartBodyModel)) for m in models):
        return MULTIPART
    if any(issubclass(m, FormModel) for m in models):
        return FORM
    if any(issubclass(m, BodyModel) for m in models):
        return JSON
    return None


def has_body(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0 or bool(request.META.get("HTTP_TRANSFER_ENCODING"))
    except ValueError:
        return True  # a length that is not a number: let the type decide


def refuse(request, accepted: frozenset[str]) -> JsonResponse:
    sent = request.content_type or "no Content-Type"
    wanted = " or ".join(sorted(accepted))
    return JsonResponse(
        body("unsupported_media_type", f"This endpoint takes {wanted}, not {sent}."),
        status=415,
        headers={"Accept-Post" if request.method == "POST" else "Accept-Patch": ", ".join(sorted(accepted))}
        if request.method in ("POST", "PATCH")
        else {},
    )


def guard(operation) -> None:
    """Check the body's type right after the operation's own checks (sign-in, then rate limits), before
    anything reads the body: a caller who is not signed in learns nothing about what it takes."""
    accepted = accepted_types(operation)
    if accepted is None or getattr(operation, "_media_guarded", False):
        return
    if operation.is_async:
        raise TypeError(f"{operation.view_func.__name__}: async operations are not guarded (none exist today).")
    run_checks = operation._run_checks  # Ninja's auth + throttles, run first by Operation.run

    @functools.wraps(run_checks)
    def checked(request):
        if error := run_checks(request):
            return error
        if has_body(request) and (request.content_type or "").lower() not in accepted:
            return refuse(request, accepted)
        return None

    operation._run_checks = checked
    operation._media_guarded = True
