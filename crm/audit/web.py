"""Settings → Audit → Reads: the read audit as a table with the API's filters, admins only.
Looking at it writes no event (crm.audit.reads says why)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from crm.audit import reads
from crm.audit.models import ReadAction
from crm.core.errors import BadRequest
from crm.core.paging import Sort, page
from crm.web.views.helpers import admin_page

PAGE_SIZE = 100
FILTERS = ("user", "action", "object_type", "from", "to")


admins_only = admin_page(reads.WHAT)  # signed in, an admin, service errors as 403/404


@admins_only
@require_GET
def read_audit(request):
    params = {k: request.GET.get(k, "").strip() for k in FILTERS}
    try:
        rows, nxt = page(
            reads.events(request.user, params), Sort("time", True), limit=PAGE_SIZE, cursor=request.GET.get("cursor")
        )
    except BadRequest as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in (exc.fields or {}).items())
        return HttpResponseBadRequest(f"{exc.message} {detail}".strip(), content_type="text/plain")
    query = urlencode({k: v for k, v in params.items() if v})
    context = {"rows": rows, "next": nxt, "params": params, "actions": ReadAction.values, "query": query}
    return render(request, "audit/reads.html", context)


app_name = "audit-settings"
urlpatterns = [path("reads/", read_audit, name="reads")]
