"""Duplicates review and merge: scored candidate pairs side by side, and a merge page where each
differing field keeps the value the user picks. The merge itself is crm.dataio.merge (one transaction,
change log, the other record deleted through the normal path)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core.errors import BadRequest, PermissionDenied, ServiceError
from crm.customization import secrets
from crm.customization.validation import definitions
from crm.dataio import duplicates, scans
from crm.dataio.models import ScanStatus
from crm.records.selectors import get_for
from crm.records.services import common
from crm.web.views.helpers import page_errors

PAIRS_SHOWN = 100
MIN_SCORE = 45


def _type_or_404(object_type: str):
    """(record type, its duplicate spec), from the registry."""
    try:
        return duplicates.type_of(object_type)
    except BadRequest:
        names = duplicates.spoken([rt.plural for rt in duplicates.with_duplicates()], "and")
        raise Http404(f"Duplicates are found for {names or 'no record type'}.") from None


def _may_merge(user, rt) -> bool:
    policy = policy_for(user)
    return policy.allows(rt.object_type, "change") and policy.allows(rt.object_type, "delete")


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def pair_list(request, object_type: str):
    """The user's latest duplicate scan (a worker runs it: at a million contacts it takes tens of
    seconds); POST starts a new one. While it runs, the page polls and reloads itself when done."""
    rt, spec = _type_or_404(object_type)
    common.require(request.user, rt.model, "view")
    if request.method == "POST":
        scans.start(request.user, object_type)
        return redirect("web:duplicates", object_type)
    scan = scans.latest(request.user, object_type)
    running = scan is not None and scan.status in (ScanStatus.QUEUED, ScanStatus.RUNNING)
    if request.headers.get("HX-Request"):
        if running:
            return render(request, "web/duplicates/scanning.html", {"scan": scan, "object_type": object_type})
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    rows = []
    if scan is not None and scan.status == ScanStatus.DONE:
        pairs, records = scans.visible_pairs(request.user, scan, PAIRS_SHOWN)
        related = rt.objects().select_related(*spec.related).in_bulk(list(records))
        hidden = policy_for(request.user).hidden_fields(rt.object_type)
        for obj in related.values() if hidden else ():
            fieldrules.blank(rt, obj, hidden)  # display copies: each side's summary leaves hidden values out
        rows = [
            {"a": related[p["a"]["id"]], "b": related[p["b"]["id"]], "score": p["score"], "reasons": p["reasons"]}
            for p in pairs
        ]
    context = {
        "object_type": object_type,
        "noun": rt.plural,
        "others": [other for other in duplicates.with_duplicates() if other.slug != object_type],
        "scan": scan,
        "running": running,
        "pairs": rows,
        "shown": PAIRS_SHOWN,
        "may_merge": _may_merge(request.user, rt),
    }
    return render(request, "web/duplicates/list.html", context)


def _shown(obj, name: str) -> str:
    """A field's value as the merge page shows it."""
    value = getattr(obj, name)
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    display = getattr(obj, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if hasattr(value, "get_username"):
        return value.get_full_name() or value.get_username()
    return str(value)


def _raw(obj, name: str):
    return getattr(obj, obj._meta.get_field(name).attname)


def _differences(rt, spec: duplicates.DuplicateSpec, a, b, locked=frozenset()) -> list[dict]:
    """Fields whose values differ (and are not both empty): the user picks one side of each. A field
    hidden from or read-only for the user's role (``locked``) is no choice: the survivor keeps its own."""
    rows = []
    for name in spec.fields:
        if name in locked or _raw(a, name) == _raw(b, name):
            continue
        label = str(rt.model._meta.get_field(name).verbose_name).capitalize()
        rows.append({"key": name, "label": label, "a": _shown(a, name), "b": _shown(b, name)})
    for key, field in definitions(rt.object_type).items():
        if f"cf_{key}" in locked:
            continue
        mine, theirs = secrets.reveal(a.custom_fields).get(key), secrets.reveal(b.custom_fields).get(key)
        if mine != theirs:
            rows.append({"key": f"cf_{key}", "label": field.label, "a": _cf(mine), "b": _cf(theirs)})
    for row in rows:  # preselect what a merge keeps by default: a's value, unless a has none
        row["pick"] = "b" if row["a"] == "—" and row["b"] != "—" else "a"
    return rows


def _cf(value) -> str:
    if value in (None, "", []):
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _choices(post, rows: list[dict], survivor_side: str) -> dict[str, str]:
    """The page's a/b picks as merge's survivor/other choices (only for the fields it showed)."""
    choices = {}
    for row in rows:
        side = post.get(f"pick_{row['key']}", row["pick"])
        if side not in ("a", "b"):
            raise BadRequest(f"Choose a value for {row['label']}.")
        choices[row["key"]] = "survivor" if side == survivor_side else "other"
    return choices


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def merge_pair(request, object_type: str, a: int, b: int):
    rt, spec = _type_or_404(object_type)
    if a == b:
        raise Http404("A record cannot be merged with itself.")
    # Both must be visible and changeable (scope does not depend on the action), and one is deleted.
    qs = rt.objects().select_related(*spec.related)
    rec_a, rec_b = get_for(qs, request.user, a, "change"), get_for(qs, request.user, b, "change")
    if not _may_merge(request.user, rt):
        raise PermissionDenied(f"Merging needs the change and delete permissions on {rt.plural}.")
    policy = policy_for(request.user)
    read_only = policy.read_only_fields(rt.object_type)
    rows = _differences(rt, spec, rec_a, rec_b, policy.hidden_fields(rt.object_type) | read_only)
    error = None
    if request.method == "POST":
        survivor_side = request.POST.get("survivor", "a")
        try:
            if survivor_side not in ("a", "b"):
                raise BadRequest("Choose which record to keep.")
            if request.POST.get("confirm") != "yes":
                raise BadRequest("Tick the box to confirm the merge.")
            choices = _choices(request.POST, rows, survivor_side)
            survivor, other = (rec_a, rec_b) if survivor_side == "a" else (rec_b, rec_a)
            other_name = str(other)
            merged = spec.merge(survivor, other, actor=request.user, choices=choices)
        except ServiceError as exc:
            error = {"message": exc.message, "fields": exc.fields or {}}
        else:
            messages.success(request, f"Merged “{other_name}” into “{merged}”.")
            return redirect("web:record-detail", object_type, merged.pk)
    context = {
        "object_type": object_type,
        "noun": rt.plural,
        "singular": rt.singular,
        "a": rec_a,
        "b": rec_b,
        "rows": rows,
        "kept": [fieldrules.restrictable(rt).get(n, n) for n in sorted(read_only)],
        "error": error,
    }
    return render(request, "web/duplicates/merge.html", context, status=400 if error else 200)
