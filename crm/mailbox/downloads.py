"""/mail/received/<id>/: a received attachment, for whoever may see its message's timeline entry (the
email activity, read through ``Activity.objects.restrict``: a user who sees none of the records it is
linked to, and is not its owner, gets a 404, as for a missing or skipped file). Always a download
(Content-Disposition: attachment, a name without path or control characters, encoded by Django), never
rendered inline, so a received HTML or SVG file cannot run in the CRM's origin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.urls import path
from django.views.decorators.http import require_GET

from crm.mailbox.models import InboundAttachment
from crm.records.models import Activity


def visible_attachment(user, pk: int) -> InboundAttachment:
    found = InboundAttachment.objects.select_related("message").filter(pk=pk, skipped=False).first()
    activity_id = found.message.activity_id if found else None
    if activity_id is None or not Activity.objects.restrict(user).filter(pk=activity_id).exists():
        raise Http404("No such attachment.")
    return found


@login_required
@require_GET
def download(request, pk: int):
    row = visible_attachment(request.user, pk)
    try:
        handle = row.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(handle, as_attachment=True, filename=row.filename, content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


app_name = "received"
urlpatterns = [path("<int:pk>/", download, name="download")]
