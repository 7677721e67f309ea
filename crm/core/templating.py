"""The one template engine for texts users write: mail templates and workflow rule texts.

Django's own template language in a restricted ``Engine``: no loaders (no ``{% include %}`` or
``{% extends %}``), no ``{% load %}``, only the tags and filters below (``safe`` and
``{% autoescape off %}`` are left out), autoescaping on for HTML and off for plain text and subjects.

The context holds no model instances. A record is a ``Fields`` mapping that answers only the names
it was built with (its concrete fields, ``cf_<key>`` custom fields); it has no public attributes or
methods, so ``{{ contact.delete }}`` or ``{{ contact.save }}`` find nothing, and the language itself
refuses names starting with ``_`` (``__class__``). Values are plain: text, numbers, dates, and money as
"1,234.50 EUR". A field hidden from the reader's role (crm.access.fieldrules) is empty.

``validate(text, names)`` is called when a text is saved: a merge field the record type does not have
is refused, naming it, rather than rendering as a silent blank when the mail goes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import FilterExpression, Variable, VariableNode
from django.template.defaulttags import IfNode

from crm.core.errors import ValidationFailed

register = Library()  # this module is the engines' only "builtins" library
for _name in ("if", "comment", "firstof", "spaceless", "now"):
    register.tag(_name, defaulttags.register.tags[_name])
for _name in (
    "default default_if_none upper lower title capfirst date time truncatechars truncatewords "
    "linebreaksbr yesno length first last join cut wordcount urlencode pluralize"
).split():  # no padding filters (center, ljust): a width of a billion would be a billion spaces
    register.filter(_name, defaultfilters.register.filters[_name])


@register.filter(is_safe=True)
def floatformat(value, arg=-1):
    """Django's floatformat with the places kept to 20 (a million places would be a million digits)."""
    try:
        places = int(str(arg).rstrip("gu") or -1)
    except ValueError:
        return ""
    return defaultfilters.floatformat(value, arg) if abs(places) <= 20 else ""


class SandboxEngine(Engine):
    """An Engine whose only builtins are this module's library: Django's defaults (every tag and
    filter, ``{% include %}``, ``{% load %}``) are not added to it."""

    default_builtins = ["crm.core.templating"]


_OPTIONS = {"loaders": [], "libraries": {}, "string_if_invalid": ""}
HTML = SandboxEngine(autoescape=True, **_OPTIONS)
TEXT = SandboxEngine(autoescape=False, **_OPTIONS)


class Money:
    """An amount with its currency: ``{{ deal.amount }}`` renders "1,234.50 EUR"."""

    def __init__(self, amount: Decimal, currency: str):
        self.amount, self.currency = amount, currency

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}".strip()


class Fields:
    """A read-only mapping for the template: item lookups only, no public attributes or methods."""

    __slots__ = ("_values",)

    def __init__(self, values: dict):
        self._values = values

    def __getitem__(self, key):
        value = self._values[key]  # KeyError: Django then finds no attribute either -> empty
        return value() if callable(value) else value

    def __contains__(self, key) -> bool:
        return key in self._values

    def __str__(self) -> str:
        return str(self._values.get("__str__", ""))


def _parse(text: str, engine: Engine):
    try:
        return engine.from_string(text or "")
    except TemplateSyntaxError as exc:
        raise ValidationFailed({"text": f"Template error: {exc}"}) from None


def render(text: str, context: dict, *, html: bool = False) -> str:
    """``text`` rendered over ``context`` (plain values and ``Fields``); HTML-escaped when ``html``."""
    engine = HTML if html else TEXT
    return _parse(text, engine).render(Context(context, autoescape=html))


# --- validation: every variable a text names must be one the context will hold ------------------


def validate(text: str, names: dict[str, Iterable[str] | None], *, field: str = "text") -> None:
    """Refuse a text naming a merge field not in ``names``: {top-level name: its sub-names, or None
    for a plain value}. The error names the field (``contact.nickname``)."""
    try:
        template = TEXT.from_string(text or "")
    except TemplateSyntaxError as exc:
        raise ValidationFailed({field: f"Template error: {exc}"}) from None
    for lookups in _variables(template.nodelist):
        problem = _unknown(lookups, names)
        if problem:
            raise ValidationFailed({field: f"Unknown merge field {problem!r}."})


def _unknown(lookups: tuple[str, ...], names: dict) -> str | None:
    head = lookups[0]
    if head in ("True", "False", "None"):
        return None
    if head not in names:
        return ".".join(lookups)
    subs = names[head]
    if len(lookups) == 1:
        return None
    if subs is None or lookups[1] not in set(subs) or len(lookups) > 2:
        return ".".join(lookups)
    return None


def _variables(nodelist) -> Iterable[tuple[str, ...]]:
    for node in nodelist:
        if isinstance(node, VariableNode):
            yield from _of_expression(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                yield from _of_condition(condition)
                yield from _variables(body)
            continue
        for expr in getattr(node, "vars", ()):  # {% firstof a b %}
            yield from _of_expression(expr)
        for attr in getattr(node, "child_nodelists", ()):
            yield from _variables(getattr(node, attr, None) or ())


def _of_expression(expr) -> Iterable[tuple[str, ...]]:
    if not isinstance(expr, FilterExpression):
        return
    if isinstance(expr.var, Variable) and expr.var.lookups:
        yield expr.var.lookups
    for _func, args in expr.filters:
        for is_var, arg in args:
            if is_var and isinstance(arg, Variable) and arg.lookups:
                yield arg.lookups


def _of_condition(condition) -> Iterable[tuple[str, ...]]:
    if condition is None:
        return
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        yield from _of_expression(value)
    for part in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if part is not None:
            yield from _of_condition(part)
