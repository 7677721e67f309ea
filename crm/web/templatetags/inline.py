"""The inline-edit affordance around a shown value (crm/web/inline.py): on a record page
``{% inline "industry" %}…{% endinline %}``, in a list cell ``{% inline_cell obj column value %}``.
Without the right to change that value the content is rendered as it is, with nothing to click."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.urls import reverse

register = template.Library()


def _affordance(kind, obj, unit: str, label: str, content, where: str = "") -> str:
    url = reverse("web:inline-edit", args=[kind.slug, obj.pk, unit]) + (f"?as={where}" if where else "")
    context = {"url": url, "label": label, "content": content, "unit": unit}
    return render_to_string("web/parts/inline_value.html", context)


class InlineNode(template.Node):
    def __init__(self, unit, nodelist):
        self.unit, self.nodelist = unit, nodelist

    def render(self, context):
        content = self.nodelist.render(context)
        unit = self.unit.resolve(context)
        units = context.get("inline_units") or {}
        if not unit or unit not in units:
            return content
        return _affordance(context["kind"], context["obj"], unit, units[unit], content)


@register.tag
def inline(parser, token):
    """{% inline "unit" %}shown value{% endinline %}: the value, editable in place when the user may."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% inline %} takes one argument: the unit (a form input's name).")
    nodelist = parser.parse(("endinline",))
    parser.delete_first_token()
    return InlineNode(parser.compile_filter(bits[1]), nodelist)


@register.simple_tag(takes_context=True)
def inline_cell(context, obj, column, value):
    """A list cell's value, editable in place when the column is and the user may change the row."""
    unit = (context.get("inline_columns") or {}).get(column.key)
    if unit is None or obj.pk not in (context.get("inline_rows") or ()):
        return value
    return _affordance(context["kind"], obj, unit, column.label, value, where="list")
