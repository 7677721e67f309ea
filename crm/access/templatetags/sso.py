"""{% sso_login %} on the login page: the "Sign in with SSO" button when SSO is on (and, with
SSO_ONLY, a line saying the password form is for emergency access only)."""

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("access/sso_login.html", takes_context=True)
def sso_login(context):
    return {"enabled": settings.OIDC_ENABLED, "sso_only": settings.SSO_ONLY, "next": context.get("next", "")}


@register.simple_tag
def sso_only() -> bool:
    """Whether SSO_ONLY closes the password and passkey sign-ins (the login page hides the passkey button)."""
    return settings.SSO_ONLY
