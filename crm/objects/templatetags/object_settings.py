"""The menu link of the object-type settings, shown to those who may use them."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from crm.objects.web.access import may_manage

register = template.Library()


@register.simple_tag(takes_context=True)
def settings_objects_link(context) -> str:
    request = context.get("request")
    if request is None or not may_manage(request.user):
        return ""
    url = reverse("object-settings:types")
    current = "page" if request.path.startswith(url) else "false"
    return format_html('<a href="{}" aria-current="{}">Settings → Objects</a>', url, current)
