"""Inline editing of one value, on a record page or in a list cell (crm/web/inline.py).

GET answers the editor (the unit's inputs, as the full form renders them); POST saves through the
type's update service with the version the editor was opened at. A stale version is a 409 with the
current value in place, invalid input a 422 with the messages in place: nothing is written then. On
success the record page's details (and its title) or the list row are answered, re-rendered.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from crm.access.policy import policy_for
from crm.core.errors import Conflict, NotFound, ServiceError
from crm.core.errors import PermissionDenied as ServicePermissionDenied
from crm.records.selectors import get_for, get_visible, may, only_visible_links, record_links
from crm.web.facts import attach_list_values, facts_context
from crm.web.inline import Editor, editable_units, labelled_units, new_form, unit_of_key
from crm.web.views.helpers import kind_or_404, page_errors

LIST = "list"


def page_context(kind, obj, user, may_change: bool) -> dict:
    """What the record page's templates need to offer inline editing: the units the user may edit
    (none without the change permission) and the unit of the record's name (its title: the name,
    a person's first and last name, a custom record's name field; else the first listed column)."""
    units = labelled_units(new_form(kind, obj, user)) if may_change else {}
    first = kind.columns[0].key if kind.columns else ""  # a task's title
    title = unit_of_key(kind, "name", units) or unit_of_key(kind, first, units)
    return {"inline_units": units, "inline_title": title or ""}


def list_context(kind, user, rows: list, columns: list, may_change: bool) -> dict:
    """The list's editable columns ({column key: unit}) and the ids of the rows the user may change
    (the role's change scope may be narrower than its view scope): one query for the page."""
    if not may_change or not rows:
        return {"inline_columns": {}, "inline_rows": set()}
    units = editable_units(new_form(kind, None, user))
    cols = {c.key: u for c in columns if (u := unit_of_key(kind, c.key, units))}
    ids = set(kind.type.restricted(user, "change").filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True))
    return {"inline_columns": cols, "inline_rows": ids}


def _qs(kind):
    return kind.objects().select_related(*kind.type.detail_related)


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def inline_edit(request, kind_slug: str, pk: int, unit: str):
    kind = kind_or_404(kind_slug)
    if kind.archived:
        raise PermissionDenied(f"{kind.plural.capitalize()} are archived: their records cannot change.")
    obj = get_for(_qs(kind), request.user, pk, "change")
    where = LIST if request.GET.get("as") == LIST else "page"
    editor = Editor(kind, obj, request.user, unit)
    context = {"kind": kind, "obj": obj, "editor": editor, "where": where, "version": obj.version}
    if request.method == "GET":
        return _editor(request, context, editor.form())
    form = editor.form(request.POST)
    context["version"] = _int(request.POST.get("version"))
    if not form.is_valid():
        return _editor(request, context, form, status=422)
    try:
        kind.type.update(obj, actor=request.user, data=editor.data(form), version=context["version"])
    except Conflict as exc:
        if exc.code != "version_conflict":
            form.add_service_error(exc)
            return _editor(request, context, form, status=409)
        return _stale(request, context, form)
    except (NotFound, ServicePermissionDenied):
        raise
    except ServiceError as exc:
        form.add_service_error(exc)
        return _editor(request, context, form, status=422)
    return _saved(request, kind, pk, where)


def _editor(request, context, form, status=200):
    return render(request, "web/parts/inline_form.html", {**context, "form": form}, status=status)


def _stale(request, context, form):
    """Someone saved the record since the editor opened: nothing is written; the editor stays with
    the user's input, names the value the record holds now and takes its current version (saving
    again is a choice made knowing it)."""
    kind, editor = context["kind"], context["editor"]
    current = get_visible(_qs(kind), request.user, context["obj"].pk)
    now = Editor(kind, current, request.user, editor.unit).form()
    shown = [(now[p].label, _display(now[p])) for p in editor.parts]
    context = {**context, "obj": current, "version": current.version, "stale": shown}
    return _editor(request, context, form, status=409)


def _display(bound) -> str:
    """A form input's current value as words: a choice by its label, a picked record by its name."""
    value, field = bound.value(), bound.field
    if value in (None, "", []):
        return "—"
    label_of = getattr(field.widget, "_label", None)  # a record picker names the record
    if label_of is not None:
        return label_of(value) or "—"
    choices = getattr(field, "choices", None)
    if choices:
        flat = {}
        for key, text in choices:
            flat.update(dict(text) if isinstance(text, list | tuple) else {key: text})
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(flat.get(v, flat.get(str(v), v))) for v in values)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _saved(request, kind, pk, where):
    user = request.user
    try:
        obj = get_visible(_qs(kind), user, pk)
    except NotFound:  # saved, and no longer the user's to see (a rule took it): the page says where
        response = render(request, "web/parts/inline_gone.html", {"kind": kind})
        response["HX-Redirect"] = reverse("web:record-list", args=[kind.slug])
        return response
    only_visible_links([obj], user, record_links(kind.model, kind.type.detail_related))
    if where == LIST:
        response = render(request, "web/parts/list_row.html", row_context(request, kind, obj))
        response["HX-Retarget"], response["HX-Reswap"] = "closest tr", "outerHTML"
        return response
    may_change = may(user, obj, "change")
    context = {
        "kind": kind,
        "obj": obj,
        "may": {"change": may_change, "delete": may(user, obj, "delete")},
        "oob": True,
        **facts_context(kind, obj, user),
        **page_context(kind, obj, user, may_change),
    }
    response = render(request, "web/parts/inline_saved.html", context)
    response["HX-Retarget"], response["HX-Reswap"] = "#facts-list", "outerHTML"
    return response


def row_context(request, kind, obj) -> dict:
    """One list row, as the list page renders it (its columns for the user's role)."""
    from crm.web.views.lists import may_on_list, visible_columns

    policy = policy_for(request.user)
    columns = visible_columns(kind, policy)
    attach_list_values(kind.type, [obj], [c.key[3:] for c in columns if c.key.startswith("cf_")], request.user)
    allowed = may_on_list(kind, policy)
    return {
        "kind": kind,
        "obj": obj,
        "columns": columns,
        "may": allowed,
        **list_context(kind, request.user, [obj], columns, allowed["change"]),
    }


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
