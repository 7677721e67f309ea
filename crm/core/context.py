"""Who and what is changing data right now: the request id and the source (api, web, import, ...).

Edges set these once; the change log reads them, so every service call is attributed without
threading two extra arguments through every function.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid

_request_id: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar("request_id", default=None)
_source: contextvars.ContextVar[str] = contextvars.ContextVar("change_source", default="system")


def request_id() -> uuid.UUID | None:
    return _request_id.get()


def source() -> str:
    return _source.get()


@contextlib.contextmanager
def change_context(*, source: str | None = None, request_id: uuid.UUID | None = None):
    tokens = []
    if source is not None:
        tokens.append((_source, _source.set(source)))
    if request_id is not None:
        tokens.append((_request_id, _request_id.set(request_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
