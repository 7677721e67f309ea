from django import template
from django.utils import timezone

from crm.access.policy import policy_for

register = template.Library()


@register.filter
def may_invoices(user, action: str = "view") -> bool:
    """The user's role grants ``action`` on invoices (company pages show the credit card)."""
    return bool(user and user.is_authenticated) and policy_for(user).allows("invoice", action)


@register.filter
def invoice_overdue_days(invoice) -> int:
    """Days past due while a balance is owed (0: not overdue), for the invoice's page."""
    return invoice.overdue_days(timezone.localdate())
