"""Settings → Privacy: an email (or phone) in, its subject-access ZIP out, or its erasure after a
confirmation. The work is the services' (crm.privacy.access, crm.privacy.erasure): admins only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from crm.core.errors import ServiceError
from crm.privacy.access import WHAT, subject_access
from crm.privacy.erasure import erase
from crm.web.views.helpers import admin_page


class PersonForm(forms.Form):
    email = forms.CharField(required=False, max_length=254)
    phone = forms.CharField(required=False, max_length=40)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("email") or data.get("phone")):
            raise forms.ValidationError("Give the person's email or phone.")
        return data


admins_only = admin_page(WHAT)  # signed in, an admin, service errors as 403/404


@admins_only
@require_http_methods(["GET", "POST"])
def privacy_page(request):
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email, phone = form.cleaned_data["email"] or None, form.cleaned_data["phone"] or None
        try:
            if request.POST.get("action") == "erase":
                if not form.cleaned_data["confirm"]:
                    form.add_error("confirm", "Tick the box to confirm: erasing cannot be undone.")
                else:
                    report = erase(actor=request.user, email=email, phone=phone)
                    total = sum(v for k, v in report.counts.items() if "_" not in k)
                    messages.success(request, f"Erased: {total} records deleted, erasure log {report.log_id}.")
                    return redirect("privacy-settings:page")
            else:
                data = subject_access(actor=request.user, email=email, phone=phone)
                response = HttpResponse(data, content_type="application/zip")
                name = f"subject-access-{timezone.now():%Y%m%d-%H%M%S}.zip"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
        except ServiceError as exc:
            form.add_error(None, exc.message)
    status = 422 if form.errors else 200
    return render(request, "privacy/page.html", {"form": form}, status=status)
