"""One-click task completion (from the task list, home and record pages)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.core.errors import ServiceError
from crm.records.models import Task
from crm.records.selectors import get_for
from crm.records.services.activities import task_complete
from crm.web.views.helpers import page_errors, safe_next
from crm.web.views.my_tasks import groups_answer


@login_required
@page_errors
@require_POST
def complete(request, pk: int):
    task = get_for(Task, request.user, pk, "change")
    error = None
    try:
        task = task_complete(task, actor=request.user).obj
    except ServiceError as exc:
        error = exc.message
    if request.htmx and error is None and request.POST.get("answer") == "groups":  # from "My tasks"
        return groups_answer(request, task.pk)
    if request.htmx:
        template = "web/parts/task_done_cell.html" if request.GET.get("as") == "cell" else "web/parts/task_row.html"
        return render(request, template, {"task": task, "error": error}, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Done: “{task}”.")
    return redirect(safe_next(request, "/tasks/"))
