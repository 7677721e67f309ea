"""A contact's vCard from its page (the same card as GET /api/v1/contacts/{id}/vcard)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest

from crm.access.policy import policy_for
from crm.dataio import uploads, vcard
from crm.records.models import Contact
from crm.records.services.common import get_visible
from crm.web.views.helpers import page_errors


@login_required
@page_errors
def contact_vcard(request, pk: int):
    version = request.GET.get("version", "3.0")
    if version not in vcard.VERSIONS:
        return HttpResponseBadRequest("Unknown vCard version: ask for 3.0 or 4.0.", content_type="text/plain")
    qs = Contact.objects.select_related("company").prefetch_related("emails", "phones")
    contact = get_visible(qs, request.user, pk)
    card = vcard.card(contact, version, policy_for(request.user))  # without the fields hidden from the role
    response = HttpResponse(card, content_type="text/vcard; charset=utf-8")
    return uploads.as_attachment(response, f"contact-{contact.pk}.vcf")
