"""Settings → Branding: a form for the organization's name, colour, address, tax ids, terms and footer,
and the logo upload. The services (crm/quotes/branding.py) check the admin role, validate and log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.core.errors import ServiceError
from crm.quotes import branding as services
from crm.quotes.models import Branding
from crm.web.views.helpers import admin_page

CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


class BrandingForm(forms.Form):
    organization_name = forms.CharField(max_length=200)
    primary_colour = forms.CharField(max_length=7, widget=forms.TextInput(attrs={"type": "color"}))
    address = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
    tax_ids = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    default_terms = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))
    footer_note = forms.CharField(required=False, max_length=300)


admins_only = admin_page(services.WHAT)  # signed in, an admin, service errors as 403/404


@admins_only
@require_http_methods(["GET", "POST"])
def branding_page(request):
    current = Branding.current()
    initial = {name: getattr(current, name) for name in services.EDITABLE}
    form = BrandingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.branding_update(actor=request.user, data=form.cleaned_data)
        except ServiceError as exc:
            for name, message in exc.fields.items():
                form.add_error(name if name in form.fields else None, message)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(request, "Branding saved.")
            return redirect("branding-settings:page")
    context = {
        "form": form,
        "has_logo": services.logo_path(current) is not None,
        "max_mb": services.LOGO_MAX_BYTES // 1048576,
    }
    return render(request, "quotes/branding.html", context, status=422 if form.errors else 200)


@admins_only
@require_POST
def logo_upload(request):
    upload = request.FILES.get("logo")
    try:
        if upload is None:
            raise services.refuse_logo("Choose a PNG or JPEG file to upload.")
        services.branding_set_logo(actor=request.user, upload=upload)
    except ServiceError as exc:
        messages.error(request, exc.fields.get("logo") or exc.message)
    else:
        messages.success(request, "Logo uploaded.")
    return redirect("branding-settings:page")


@admins_only
@require_POST
def logo_remove(request):
    services.branding_remove_logo(actor=request.user)
    messages.success(request, "Logo removed.")
    return redirect("branding-settings:page")


@login_required
@require_GET
def logo(request):
    """The logo image for anyone signed in (quote previews show it); 404 when there is none."""
    path = services.logo_path(Branding.current())
    if path is None:
        raise Http404("No logo.")
    response = FileResponse(open(path, "rb"), content_type=CONTENT_TYPES.get(path.suffix.lstrip("."), "image/png"))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
