"""The import wizard: upload -> mapping -> dry-run preview -> import in the background -> the batch
page with a polled progress bar, its problem rows, error report and undo; and the list of imports.

Between steps the upload stays under var/imports/ (crm.dataio.background); the browser only holds
a random token that this session maps to the stored file, never a path.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from crm.access.policy import policy_for
from crm.core.errors import BadRequest, NotFound, ServiceError
from crm.customization.validation import definitions
from crm.dataio import background, batches, importfields, importing, mapping, saved_mappings, uploads, vcard
from crm.dataio.exporting import csv_lines
from crm.dataio.importers import importable
from crm.dataio.models import BatchStatus, ImportBatch
from crm.web.views.helpers import page_errors

SESSION_KEY = "import_wizard"
KEEP_WIZARDS = 5  # uploads a session may have open at once; older ones are dropped
SAMPLE_ROWS = 3
LIST_SIZE = 100
PROBLEM_ROWS = 100
LABELS = {"full_name": "Full name", "email_2": "Second email", "email_opt_in": "Email opt-in", "postal_code": "ZIP"}


def _importer(object_type: str):
    try:
        return importing.importer_for(object_type)
    except BadRequest:
        raise Http404("No such import.") from None


def _wizards(request) -> dict:
    return request.session.get(SESSION_KEY, {})


def _wizard(request, token: str) -> dict:
    """This session's upload for ``token``; anything else (another user's token, an old one) is a 404."""
    entry = _wizards(request).get(token)
    if entry is None:
        raise Http404("This upload is not available any more; upload the file again.")
    return entry


def _save_wizard(request, token: str, entry: dict) -> None:
    wizards = dict(_wizards(request))
    wizards.pop(token, None)
    while len(wizards) >= KEEP_WIZARDS:  # the oldest goes first (dicts keep insertion order)
        background.remove(wizards.pop(next(iter(wizards)))["file"])
    wizards[token] = entry
    request.session[SESSION_KEY] = wizards


def _drop_wizard(request, token: str) -> None:
    wizards = dict(_wizards(request))
    wizards.pop(token, None)
    request.session[SESSION_KEY] = wizards


def _error_dict(exc: ServiceError) -> dict:
    return {"message": exc.message, "fields": exc.fields or {}}


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def upload(request, object_type: str):
    spec = _importer(object_type)
    importing.require(request.user, spec, "add")
    context = {"object_type": object_type, "noun": spec.record_type().plural, "error": None, "back": _back(object_type)}
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            context["error"] = {"message": "Choose a CSV or XLSX file to upload.", "fields": {}}
            return render(request, "web/imports/upload.html", context, status=400)
        try:
            uploads.check_size(upload_file)
        except ServiceError as exc:
            context["error"] = _error_dict(exc)
            return render(request, "web/imports/upload.html", context, status=400)
        name = background.store(upload_file)
        try:
            with open(background.path_of(name), "rb") as binary:
                # by content, whatever the file is called; a vCard's contents are not kept
                if uploads.checked(upload_file, binary, ("csv", "xlsx", "vcard")) == "vcard":
                    try:
                        return _vcards(request, binary, object_type, context)
                    finally:
                        background.remove(name)
                importing.columns_of(binary, object_type)  # a file without a readable header stops here
        except ServiceError as exc:
            background.remove(name)
            context["error"] = _error_dict(exc)
            return render(request, "web/imports/upload.html", context, status=400)
        token = secrets.token_urlsafe(16)
        entry = {"file": name, "type": object_type, "name": upload_file.name[:255], "mapping": None, "update": False}
        _save_wizard(request, token, entry)
        return redirect("web:import-map", token)
    return render(request, "web/imports/upload.html", context)


def _back(object_type: str) -> str:
    """Where "Cancel" leads: the type's list when the web app has one, else the imports."""
    try:
        return reverse("web:record-list", args=[object_type])
    except NoReverseMatch:
        return reverse("web:imports")


def _vcards(request, binary, object_type: str, context: dict):
    """A vCard file needs no mapping: one contact per card, all or none, then back to the contacts."""
    if object_type != "contacts":
        raise BadRequest(f"This is a vCard file: it holds contacts, not {context['noun']}. Import it from Contacts.")
    result = vcard.import_cards(binary.read(vcard.MAX_BYTES + 1), actor=request.user)
    count, notes = len(result["created"]), sum(len(w) for w in result["warnings"].values())
    text = f"Imported {count} contact{'' if count == 1 else 's'} from the vCard file."
    messages.success(request, text + (f" {notes} detail(s) could not be kept." if notes else ""))
    return redirect("web:record-list", "contacts")


def _targets(object_type: str) -> list[tuple[str, str]]:
    fields = definitions(mapping.record_type(object_type))
    out = [("", "— don't import —")]
    for target in mapping.targets(object_type):
        out.append((target, LABELS.get(target, target.replace("_", " ").capitalize())))
    # A custom object type's fields are all custom: named as they are, not as additions.
    suffix = "" if importing.importer_for(object_type).record_type().run_time else " (custom field)"
    for key in mapping.custom_keys(object_type):
        out.append((f"cf_{key}", f"{fields[key].label}{suffix}"))
    return out


def _read_head(entry: dict) -> tuple[list[str], list[list[str]], dict]:
    """The stored file's header, its first rows (to help choose) and the suggested mapping."""
    path = background.path_of(entry["file"])
    with open(path, "rb") as binary:
        suggested = importing.columns_of(binary, entry["type"])["mapping"]
    with open(path, "rb") as binary:
        source = importing.open_table(binary)
        rows = []
        for _, cells in source.rows:
            rows.append(cells)
            if len(rows) == SAMPLE_ROWS:
                break
    return source.header, rows, suggested


@login_required
@page_errors
@require_http_methods(["GET", "POST"])
def map_columns(request, token: str):
    entry = _wizard(request, token)
    object_type = entry["type"]
    spec = _importer(object_type)
    try:
        header, samples, suggested = _read_head(entry)
    except (ServiceError, FileNotFoundError) as exc:  # a bad line among the first rows, or swept away
        _drop_wizard(request, token)
        background.remove(entry["file"])
        gone = "This upload is not available any more; upload the file again."
        messages.error(request, exc.message if isinstance(exc, ServiceError) else gone)
        return redirect("web:import-upload", object_type)
    suggested = entry["mapping"] or suggested
    error, status = None, 200
    if request.GET.get("saved", "").isdigit():
        suggested = _apply_saved(request, object_type, header, int(request.GET["saved"]))
    if request.method == "POST":
        suggested = {column: request.POST.get(f"map_{i}", "") for i, column in enumerate(header)}
        update = request.POST.get("update_existing") == "on"
        match_on, create = request.POST.get("match_on", ""), request.POST.get("create_companies") == "on"
        entry = {**entry, "mapping": suggested, "update": update, "match_on": match_on, "preview": None}
        entry["create_companies"] = create and "company" in suggested.values()
        _save_wizard(request, token, entry)
        try:
            batch = _dry_run(request, entry, save_as=request.POST.get("save_as", "").strip())
        except ServiceError as exc:
            error, status = _error_dict(exc), 400
        else:
            _save_wizard(request, token, {**entry, "preview": batch.pk})
            return redirect("web:import-preview", token)
    fields = (error or {}).get("fields", {})
    notes = {}
    if request.method != "POST":  # a proposal leaves out, and lists, the columns the role may not import
        suggested, notes = importfields.unmapped(request.user, spec.record_type(), suggested)
    columns = [
        {
            "index": i,
            "name": column,
            "target": suggested.get(column, ""),
            "samples": [row[i] for row in samples if i < len(row)],
            "error": fields.get(f"mapping.{column}") or fields.get(column),
            "note": notes.get(column, "").replace("cannot be imported", "will not be imported"),
        }
        for i, column in enumerate(header)
    ]
    context = {
        "entry": entry,
        "token": token,
        "noun": spec.record_type().plural,
        "columns": columns,
        "targets": _targets(object_type),
        "error": error,
        "may_update": policy_for(request.user).allows(spec.record_type().object_type, "change"),
        "may_create_companies": object_type == "contacts" and policy_for(request.user).allows("company", "add"),
        "company_mapped": "company" in suggested.values(),
        "key_name": spec.key_name,  # what rows are matched on by default; none for deals and activities
        "match_choices": _match_choices(object_type, spec),
        "saved": saved_mappings.listed(actor=request.user, object_type=object_type),
        "save_as": request.POST.get("save_as", ""),
    }
    return render(request, "web/imports/map.html", context, status=status)


def _match_choices(object_type: str, spec) -> list[tuple[str, str]]:
    """What rows may be matched on: the type's own key, a custom field holding another system's id, or nothing."""
    out = [("", f"Their {spec.key_name}")] if spec.key_name else []
    fields = definitions(mapping.record_type(object_type))
    out += [
        (f"cf_{key}", f"{fields[key].label} (an id from another system)") for key in mapping.custom_keys(object_type)
    ]
    out.append(("none" if spec.key_name else "", "Nothing: every row is a new record"))
    return out


def _apply_saved(request, object_type: str, header: list[str], pk: int) -> dict:
    """A saved mapping laid over this file's columns (columns it does not name are not imported)."""
    saved = saved_mappings.get_by_id(actor=request.user, pk=pk)
    if saved.object_type != object_type:
        raise Http404("No such saved mapping for this import.")
    return {column: saved.mapping.get(column, "") for column in header}


def _dry_run(request, entry: dict, *, save_as: str) -> ImportBatch:
    """Check the choices like the real import will, save the mapping if asked, then queue the dry run:
    a worker checks every row (a million-row file would not fit in one request) while the preview polls."""
    checked = background.check(
        entry["file"],
        actor=request.user,
        object_type=entry["type"],
        columns=entry["mapping"],
        update_existing=entry["update"],
        match_on=entry.get("match_on", ""),
        create_companies=entry.get("create_companies", False),
    )
    if save_as:
        saved_mappings.save(actor=request.user, object_type=entry["type"], name=save_as, columns=checked["mapping"])
    return background.queue_stored(
        entry["file"],
        actor=request.user,
        object_type=entry["type"],
        file_name=entry["name"],
        columns=checked["mapping"],
        update_existing=entry["update"],
        match_on=checked["match_on"],
        create_companies=entry.get("create_companies", False),
        dry_run=True,
    )


def _preview_batch(request, entry: dict) -> ImportBatch | None:
    if not entry.get("preview"):
        return None
    return ImportBatch.objects.filter(created_by=request.user, dry_run=True, pk=entry["preview"]).first()


@login_required
@page_errors
def preview(request, token: str):
    entry = _wizard(request, token)
    batch = _preview_batch(request, entry)
    if batch is None:
        return redirect("web:import-map", token)
    if background.unfinished(batch):  # the worker is still checking: the page polls this part
        context = {"batch": batch, "token": token, "progress": background.progress(batch)}
        if request.headers.get("HX-Request"):
            return render(request, "web/imports/checking.html", context)
        return render(request, "web/imports/preview.html", {**context, "entry": entry, "checking": True})
    if request.headers.get("HX-Request"):  # done: reload the whole page to show the outcome
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    labels = dict(_targets(entry["type"]))
    context = {
        "entry": entry,
        "token": token,
        "noun": _importer(entry["type"]).record_type().plural,
        "summary": batches.summary(batch, rows=PROBLEM_ROWS),
        "mapped": [(c, labels.get(batch.mapping[c], batch.mapping[c])) for c in batch.header if batch.mapping.get(c)],
        "importable": batch.counts.get("create", 0) + batch.counts.get("update", 0),
    }
    return render(request, "web/imports/preview.html", context)


@login_required
@page_errors
@require_POST
def start(request, token: str):
    """Queue exactly what was previewed: the same file, mapping and update choice."""
    entry = _wizard(request, token)
    dry = _preview_batch(request, entry)
    if dry is None or dry.status != BatchStatus.DRY_RUN or not dry.finished_at:
        messages.error(request, "Preview the import first.")
        return redirect("web:import-map", token)
    try:
        batch = background.queue_stored(
            entry["file"],
            actor=request.user,
            object_type=entry["type"],
            file_name=entry["name"],
            columns=dry.mapping,
            update_existing=dry.update_existing,
            match_on=dry.match_on,
            create_companies=dry.create_companies,
        )
    except ServiceError as exc:
        _drop_wizard(request, token)  # the refused file was removed
        messages.error(request, f"The import was not started: {exc.message}")
        return redirect("web:import-upload", entry["type"])
    _drop_wizard(request, token)  # the batch owns the file now
    return redirect("web:import-batch", batch.pk)


def _batch(request, pk: int) -> ImportBatch:
    """A batch its creator or an admin may see; any other is a 404, as in the API."""
    try:
        return batches.batch_for(request.user, pk)
    except NotFound:
        raise Http404("No such import.") from None


def _status_context(request, batch: ImportBatch) -> dict:
    active = batch.status in background.ACTIVE
    return {
        "batch": batch,
        "progress": background.progress(batch),
        "active": active,
        # Problem rows are shown once it ends: a poll every second should not scan a growing table.
        "summary": None if active else batches.summary(batch, rows=PROBLEM_ROWS),
        "may_undo": batch.status == BatchStatus.DONE,  # the batch is the user's own, or they are an admin
    }


@login_required
def batch_detail(request, pk: int):
    batch = _batch(request, pk)
    return render(request, "web/imports/batch.html", _status_context(request, batch))


@login_required
def batch_status(request, pk: int):
    """The polled part: the progress bar while the import runs, then its result (polling stops)."""
    batch = _batch(request, pk)
    return render(request, "web/imports/status.html", _status_context(request, batch))


@login_required
def batch_errors(request, pk: int):
    batch = _batch(request, pk)
    response = StreamingHttpResponse(csv_lines(batches.error_report(batch)), content_type="text/csv; charset=utf-8")
    return uploads.as_attachment(response, f"import-{batch.pk}-errors.csv")


@login_required
@require_POST
def undo(request, pk: int):
    batch = _batch(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm the undo.")
        return redirect("web:import-batch", batch.pk)
    try:
        done = importing.undo(batch, actor=request.user)
    except ServiceError as exc:
        messages.error(request, f"Nothing was undone: {exc.message}")
    else:
        text = f"Import undone: {done['deleted']} removed, {done['restored']} restored"
        if done["gone"]:
            text += f", {done['gone']} already deleted"
        messages.success(request, text + ".")
    return redirect("web:import-batch", batch.pk)


@login_required
def batch_list(request):
    policy = policy_for(request.user)
    shown = batches.batches_for(request.user).exclude(dry_run=True).select_related("created_by")
    types = [(slug, spec.record_type()) for slug, spec in importable().items()]
    may_import = [(slug, rt.plural) for slug, rt in types if policy.allows(rt.object_type, "add")]
    context = {"batches": shown[:LIST_SIZE], "list_size": LIST_SIZE, "may_import": may_import}
    return render(request, "web/imports/list.html", context)
