from django import template

from crm.access.policy import policy_for

register = template.Library()


@register.filter
def may_orders(user, action: str = "view") -> bool:
    """The user's role grants ``action`` on orders (the record pages show purchase history, "Make order")."""
    return bool(user and user.is_authenticated) and policy_for(user).allows("order", action)
