"""List pages: column filters (custom fields too), sort, text search, saved views, cursor paging.

Filtering is the record selectors' ``filtered()`` that the API uses too, so a list shows exactly what
``GET /api/v1/<kind>?...`` returns for the same query string.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core.errors import BadRequest, ValidationFailed
from crm.core.paging import page
from crm.customization.models import FieldType
from crm.customization.validation import definitions
from crm.records.selectors import filtered, only_visible_links, record_links, sort_of
from crm.web import column_widths, columns, empty
from crm.web.facts import attach_list_values
from crm.web.forms.base import user_choices
from crm.web.registry import Column, Kind
from crm.web.saved_views import builtin_views, visible_views
from crm.web.views import inline
from crm.web.views.helpers import kind_or_404, page_errors, safe_next

PAGE_SIZE = 50
# Parameters of the page itself, not filters.
PAGE_PARAMS = {"cursor", "view", columns.PARAM}
RUN_TIME_VALUE_COLUMNS = 4
UNSORTABLE = {FieldType.MULTI_CHOICE}  # a list has no order (sort_of refuses it)


def custom_columns(kind: Kind) -> list[Column]:
    """A column per custom field; for a custom object type, whose values are all custom fields, the
    first few after its name (the record page shows the rest)."""
    defs = definitions(kind.object_type)
    if kind.run_time:
        name_field = kind.type.extra["type"].name_field
        defs = dict([(k, d) for k, d in defs.items() if k != name_field][:RUN_TIME_VALUE_COLUMNS])
    cols = []
    for key, d in defs.items():
        text = d.field_type in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.URL, FieldType.EMAIL)
        choices = tuple((c, c) for c in d.choices) if d.field_type == FieldType.CHOICE else ()
        sort = None if d.field_type in UNSORTABLE else f"cf_{key}"
        cols.append(Column(d.label, f"cf_{key}", sort, f"cf_{key}__contains" if text else f"cf_{key}", choices))
    return cols


def list_params(request) -> QueryDict:
    """The query string without paging keys and without filters left empty in the form."""
    params = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key in PAGE_PARAMS:
            continue
        for value in values:
            if value.strip():
                params.appendlist(key, value.strip())
    return params


def run_query(kind: Kind, user, params: QueryDict, action: str = "view"):
    """The restricted, filtered queryset (BadRequest for unknown filters or bad values)."""
    return filtered(kind.type, user, params, action)


@login_required
def record_list(request, kind_slug: str):
    kind = kind_or_404(kind_slug)
    policy = policy_for(request.user)
    if not policy.allows(kind.object_type, "view"):
        raise PermissionDenied(f"You may not see {kind.plural}.")
    params = list_params(request)
    hidden = policy.hidden_fields(kind.object_type)
    available = visible_columns(kind, policy)
    cols_raw = request.GET.get(columns.PARAM)
    shown = columns.chosen(kind.slug, request.user, available, cols_raw)
    sort_raw = params.get("sort") or kind.type.api.default_sort
    rows, next_cursor, error = [], None, None
    try:
        qs = run_query(kind, request.user, params)
        qs = qs.select_related(*_related(kind))
        sort = sort_of(kind.type, params.get("sort"), request.user)
        rows, next_cursor = page(qs, sort, limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
        rows = only_visible_links(rows, request.user, record_links(kind.model, _related(kind)))
        attach_list_values(kind.type, rows, [c.key[3:] for c in shown if c.key.startswith("cf_")], request.user)
    except BadRequest as exc:
        error = {"message": exc.message, "fields": exc.fields}
    context = {
        "kind": kind,
        "columns": shown,
        "chooser": [(c, c in shown) for c in [*shown, *(c for c in available if c not in shown)]],
        "cols_param": cols_raw or "",
        "view_query": _with_columns(params, columns.query_value(shown, available)),
        "rows": rows,
        "next_cursor": next_cursor,
        "params": params,
        "query_string": params.urlencode(),
        "active_filters": len([k for k in params if k != "sort"]),
        "sort": sort_raw,
        "error": error,
        "is_paged": bool(request.GET.get("cursor")),
        "users": user_choices(blank="Anyone"),
        "views": [*builtin_views(kind, request.user), *visible_views(kind, request.user)],
        "current_view": request.GET.get("view", ""),
        "may": may_on_list(kind, policy),
        "about": empty.about(kind),
        "owner_hidden": kind.owner_filter in hidden,
        "tag_hidden": "tag" in hidden,
    }
    context |= _width_context(kind, request.user, available, context["views"], context["current_view"])
    context |= inline.list_context(kind, request.user, rows, shown, context["may"]["change"])
    return render(request, "web/list.html", context, status=400 if error else 200)


def _width_context(kind: Kind, user, available: list[Column], views, current: str) -> dict:
    """The widths of the view open (its key, as its chip links it), or of the list itself."""
    view = current if current in {v.key for v in views} else ""
    widths = column_widths.stored(kind.slug, user, view, available)
    return {"widths": widths, "widths_json": json.dumps(widths), "widths_view": view}


def _with_columns(params: QueryDict, cols: str) -> str:
    """The query a saved view keeps: the filters and sort, and the columns when they are not the list's own."""
    query = params.copy()
    if cols:
        query[columns.PARAM] = cols
    return query.urlencode()


def visible_columns(kind: Kind, policy) -> list[Column]:
    """The list's columns for the user: no column (nor filter box) of a field hidden from their role."""
    hidden = policy.hidden_fields(kind.object_type)
    return [c for c in (*kind.columns, *custom_columns(kind)) if fieldrules.field_of(kind.type, c.key) not in hidden]


def may_on_list(kind: Kind, policy) -> dict[str, bool]:
    """The buttons a list offers; an archived custom type's records are read-only."""
    allowed = {a: policy.allows(kind.object_type, a) for a in ("add", "change", "delete", "export")}
    if kind.archived:
        allowed.update(add=False, change=False, delete=False)
    return allowed


def _related(kind: Kind) -> tuple[str, ...]:
    names = {c.key for c in kind.columns}
    return tuple(n for n in ("owner", "assignee", "company", "stage") if n in names)


@login_required
@page_errors
@require_POST
def choose_columns(request, kind_slug: str):
    """The column chooser's form: the checked columns in the order the form lists them, or "reset"."""
    kind = kind_or_404(kind_slug)
    # Back to the list without a view's own columns (``cols``), which would hide the choice just made.
    path, _, query = safe_next(request, f"/{kind.slug}/").partition("?")
    back = QueryDict(query, mutable=True)
    back.pop(columns.PARAM, None)
    back = f"{path}?{back.urlencode()}" if back else path
    if request.POST.get("reset"):
        columns.columns_reset(actor=request.user, kind_slug=kind.slug)
        return redirect(back)
    available = visible_columns(kind, policy_for(request.user))
    try:
        columns.columns_save(
            actor=request.user, kind_slug=kind.slug, keys=request.POST.getlist(columns.PARAM), available=available
        )
    except ValidationFailed as exc:
        messages.error(request, " ".join(exc.fields.values()) or exc.message)
    return redirect(back)


@login_required
@page_errors
@require_POST
def keep_widths(request, kind_slug: str):
    """Column widths dragged in a list (static/web/listtable.js: ``widths=name:240,email:180`` and the
    ``view`` open), or ``reset`` from the column chooser, which then goes back to the list."""
    kind = kind_or_404(kind_slug)
    view = request.POST.get("view", "").strip()
    builtin = {v.key for v in builtin_views(kind, request.user)}
    try:
        widths = {} if request.POST.get("reset") else column_widths.parse(request.POST.get("widths"))
        column_widths.widths_save(
            actor=request.user,
            kind_slug=kind.slug,
            view=view,
            widths=widths,
            available=visible_columns(kind, policy_for(request.user)),
            builtin_keys=builtin,
        )
    except ValidationFailed as exc:
        if request.POST.get("next"):
            messages.error(request, " ".join(exc.fields.values()) or exc.message)
            return redirect(safe_next(request, f"/{kind.slug}/"))
        return JsonResponse({"error": " ".join(exc.fields.values()) or exc.message}, status=400)
    if request.POST.get("next"):
        return redirect(safe_next(request, f"/{kind.slug}/"))
    return HttpResponse(status=204)
