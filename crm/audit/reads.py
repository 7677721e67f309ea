"""The read audit: who exported what, who ran a subject access, who viewed sensitive (encrypted) fields.

``record_read`` is the one writer of ReadEvent rows; the helpers below shape its arguments for the
callers (exports, record reads). The table is append-only for everyone: the admin, the API and the
database itself (migration 0003's triggers) refuse to change or delete a row. Reading the audit
(``events``) is admins only and is not itself recorded: its readers are the admins it answers to.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from crm.access.policy import policy_for, require_admin
from crm.audit.models import ReadAction, ReadEvent
from crm.core import context, crypto
from crm.core.errors import BadRequest
from crm.core.filters import OPS

WHAT = "the read audit"
# A filter value kept in the detail is cut to this many characters, and at most MAX_FILTERS kept:
# the audit says what was asked for, it is no place to store a pasted document.
MAX_VALUE, MAX_FILTERS = 200, 50
# List parameters that shape the output, not which rows: left out of the recorded filters.
NOT_FILTERS = {"format", "sort", "limit", "cursor", "version", "csrfmiddlewaretoken"}
# Filter kinds whose values name nobody (crm.core.filters), and the text that names nobody either:
# ids, numbers, dates and times, booleans, and comma lists of them.
CLEAR_KINDS = {"int", "decimal", "bool", "date", "datetime", "choice", "uuid"}
NAMES_NOBODY = re.compile(r"[0-9 .,:+\-TZ]*|true|false|True|False")


def record_read(*, actor, action: str, object_type: str = "", object_id=None, count=None, detail=None) -> ReadEvent:
    """Append one event, attributed to the current request (id, source) like the change log."""
    return ReadEvent.objects.create(
        user=actor if getattr(actor, "pk", None) else None,
        user_name=getattr(actor, "username", "") or "",
        action=ReadAction(action).value,
        object_type=object_type or "",
        object_id=object_id,
        count=count,
        detail=detail or {},
        request_id=context.request_id(),
        source=context.source(),
    )


def filters_of(params) -> dict:
    """The filters of a query (a QueryDict or a dict) as the detail keeps them: one value, or a list."""
    out = {}
    if hasattr(params, "lists"):  # a QueryDict: every value of a repeated key
        lists = params.lists()
    else:
        lists = ((k, v if isinstance(v, list) else [v]) for k, v in params.items())
    for key, values in lists:
        if key in NOT_FILTERS or len(out) >= MAX_FILTERS:
            continue
        values = [str(v)[:MAX_VALUE] for v in values]
        out[str(key)[:MAX_VALUE]] = values[0] if len(values) == 1 else values[:MAX_FILTERS]
    return out


def record_export(actor, object_type: str, qs, fmt: str, params) -> ReadEvent:
    """An export of ``qs`` (counted before the rows stream, so an aborted download is still recorded)."""
    detail = {"format": fmt, "filters": _scrubbed(object_type, filters_of(params))}
    return record_read(actor=actor, action=ReadAction.EXPORT, object_type=object_type, count=qs.count(), detail=detail)


def hashed(value: str) -> str:
    """How the audit keeps a filter value that may name a person: its keyed hash (the lookup key of
    crm.core.crypto, case-folded), so "did anyone export by this email?" is answered by hashing the
    email again, while the table never holds it. A row cannot be changed (append-only), so an erasure
    could not scrub a clear value afterwards: it is never written."""
    return f"hashed:{crypto.lookup_hash(value)}"


def _scrubbed(object_type: str, filters: dict) -> dict:
    """Values of text filters (names, emails, phones, search words, unknown keys) hashed; ids, numbers,
    dates, booleans and choice values, which name nobody, kept as given."""
    kinds = _filter_kinds(object_type)
    out = {}
    for key, value in filters.items():
        name, _, op = key.rpartition("__") if key.rpartition("__")[2] in OPS else (key, "", "")
        values = value if isinstance(value, list) else [value]
        clear = op == "isnull" or kinds.get(name) in CLEAR_KINDS or all(NAMES_NOBODY.fullmatch(v) for v in values)
        if not clear:
            values = [hashed(v) for v in values]
        out[key] = values if isinstance(value, list) else values[0]
    return out


def _filter_kinds(object_type: str) -> dict[str, str]:
    from crm.core import recordtypes
    from crm.core.filters import filter_fields_of

    rt = recordtypes.by_type(object_type)
    return {name: f.kind for name, f in filter_fields_of(rt).items()} if rt is not None else {}


def request_filters(request) -> dict:
    """What chose a web export's rows: the list's query, or the ids ticked on the list (a bulk export)."""
    if request.method == "POST":
        return {"ids": request.POST.getlist("ids")[:MAX_FILTERS]}
    return request.GET


def sensitive_fields(obj) -> list[str]:
    """The keys of ``obj``'s encrypted custom values: what an output of the record decrypts."""
    from crm.customization.secrets import is_envelope

    return sorted(k for k, v in (getattr(obj, "custom_fields", None) or {}).items() if is_envelope(v))


def record_sensitive_view(actor, obj, object_type: str | None = None) -> ReadEvent | None:
    """A record read returned decrypted values: one event per (user, record, request), naming the fields.
    Nothing when the record holds no encrypted value the user is shown (a field hidden from their role
    is sent as null: crm.access field rules)."""
    from crm.audit.changelog import type_of
    from crm.core import recordtypes

    object_type = object_type or type_of(obj)
    hidden = policy_for(actor).hidden_fields(object_type) if getattr(actor, "pk", None) else frozenset()
    prefix = "cf_" if recordtypes.declared(object_type) else ""  # a built-in type's custom field is cf_<key>
    fields = [k for k in sensitive_fields(obj) if f"{prefix}{k}" not in hidden]
    if not fields:
        return None
    rid = context.request_id()
    same = ReadEvent.objects.filter(
        action=ReadAction.VIEW_SENSITIVE, request_id=rid, object_type=object_type, object_id=obj.pk
    )
    if rid is not None and same.filter(user_id=getattr(actor, "pk", None)).exists():
        return None
    return record_read(
        actor=actor,
        action=ReadAction.VIEW_SENSITIVE,
        object_type=object_type,
        object_id=obj.pk,
        detail={"fields": fields},
    )


# ---- reading the audit (admins) ------------------------------------------------------------------


def _moment(raw: str, name: str, end: bool) -> dt.datetime:
    """A date (the whole day: from its start, to its end) or a datetime; naive means UTC."""
    try:
        day = parse_date(raw)
        moment = None if day else parse_datetime(raw)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time())
    if moment is None:
        raise BadRequest(f"{name} is not a date.", fields={name: "Use YYYY-MM-DD or an ISO 8601 date-time."})
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=dt.UTC)


def _is_day(raw: str) -> bool:
    try:
        return parse_date(raw) is not None
    except ValueError:
        return False


def filter_q(params) -> Q:
    """user (an id or a user name), action, object_type, from and to (dates or date-times)."""
    q = Q()
    user = (params.get("user") or "").strip()
    if user:
        q &= Q(user_id=int(user)) if user.isdigit() and len(user) < 19 else Q(user_name=user)
    action = (params.get("action") or "").strip()
    if action:
        if action not in ReadAction.values:
            raise BadRequest("Unknown action.", fields={"action": f"Use one of: {', '.join(ReadAction.values)}."})
        q &= Q(action=action)
    if (params.get("object_type") or "").strip():
        q &= Q(object_type=params["object_type"].strip())
    if params.get("from"):
        q &= Q(time__gte=_moment(params["from"], "from", end=False))
    if params.get("to"):
        end = _moment(params["to"], "to", end=True)
        q &= Q(time__lt=end) if _is_day(params["to"]) else Q(time__lte=end)  # a day: up to its end
    return q


def events(actor, params):
    """The events matching ``params``, newest first; admins only (PermissionDenied otherwise)."""
    require_admin(actor, WHAT)
    return ReadEvent.objects.filter(filter_q(params))


@contextlib.contextmanager
def maintenance():
    """Let a flush empty the read audit (Django's `flush`, the tests' teardown): see migration 0003."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('crm.audit_maintenance', 'on', false)")
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('crm.audit_maintenance', 'off', false)")
        return
    with connection.cursor() as cur:
        cur.execute("INSERT INTO audit_maintenance (flush) VALUES (1)")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM audit_maintenance")
