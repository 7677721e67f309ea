"""Who sees a model's evaluation and may retrain it: admins and managers (the sales-manager role or a
team's manager, as for the forecast settings and shared mail templates)."""

from __future__ import annotations

from crm.core.errors import PermissionDenied


def is_manager(user) -> bool:
    from crm.mail.templates_service import is_manager as manager

    return bool(user and user.is_authenticated) and manager(user)


def require_manager(user) -> None:
    if not is_manager(user):
        raise PermissionDenied("Only admins and managers may see or retrain the win-probability model.")
