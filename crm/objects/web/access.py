"""Who sees the object-type settings pages: the API's check (require_admin), nobody else."""

from __future__ import annotations

from crm.access.policy import require_admin
from crm.core.errors import PermissionDenied
from crm.web.views.helpers import admin_page

WHAT = "object types"


def may_manage(user) -> bool:
    try:
        require_admin(user, WHAT)
    except PermissionDenied:
        return False
    return True


admins_only = admin_page(WHAT)  # signed in, an admin, service errors as 403/404
