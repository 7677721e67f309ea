"""Who sees the object-type settings pages: the API's check (require_admin), nobody else."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required

from crm.access.policy import require_admin
from crm.core.errors import PermissionDenied
from crm.web.views.helpers import page_errors

WHAT = "object types"


def may_manage(user) -> bool:
    try:
        require_admin(user, WHAT)
    except PermissionDenied:
        return False
    return True


def admins_only(view):
    """Signed in (else the login page), an admin (else 403), service NotFound as 404."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        require_admin(request.user, WHAT)
        return view(request, *args, **kwargs)

    return login_required(page_errors(checked))
