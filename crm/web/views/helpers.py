"""What every view shares: the kind from the URL, and service errors turned into pages and messages."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from crm.access.policy import require_admin
from crm.core.errors import NotFound, PermissionDenied
from crm.web.moved import moved_page
from crm.web.registry import Kind, kind

# Pages about one record whose URL has no kind: the record type their ``pk`` names.
RECORD_PAGES = {"lead-convert": "lead", "deal-move": "deal", "task-complete": "task"}


def kind_or_404(slug: str) -> Kind:
    try:
        return kind(slug)
    except KeyError:
        raise Http404("No such page.") from None


def page_errors(view):
    """NotFound -> 404 and PermissionDenied -> 403, exactly as the API answers them; a 404 for a
    record that was taken from the user says so (crm/web/moved.py)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            moved = moved_page(request, _record_type(request, kwargs), kwargs.get("pk"))
            if moved is not None:
                return moved
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapper


def admin_page(what: str):
    """A settings page for admins: signed in (else the login page), an admin (else 403, naming
    ``what``), a service's NotFound as 404. ``@admin_page(WHAT)`` above the view."""

    def decorator(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            require_admin(request.user, what)
            return view(request, *args, **kwargs)

        return login_required(page_errors(checked))

    return decorator


def _record_type(request, kwargs: dict) -> str:
    if "kind_slug" in kwargs:
        try:
            return kind(kwargs["kind_slug"]).object_type
        except KeyError:
            return ""
    match = getattr(request, "resolver_match", None)
    return RECORD_PAGES.get(getattr(match, "url_name", ""), "")


def safe_next(request, default: str) -> str:
    """A same-site path to go back to after a POST, never an outside URL."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default
