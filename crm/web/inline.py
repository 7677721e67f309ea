"""Inline editing: one value of a record edited in place, on its page or in a list cell.

The unit of an inline edit is one input of the record type's own form (``form_class_of``): the same
widget, validation and field rules as the full form, cut down to that input. A few values a person
sees as one take two inputs: a person's name (first and last name) and a deal's amount (with its
currency). The data sent to the update service holds only the keys that input fills (the services
take partial data, as the API's PATCH), with the version the editor was opened at.
"""

from __future__ import annotations

from crm.access import fieldrules
from crm.core.errors import NotFound, PermissionDenied
from crm.customization.validation import definitions
from crm.web.forms.generic import form_class as form_class_of

# A unit named like a registry field whose value the form takes as several inputs.
COMPOSITES = {
    "name": ("first_name", "last_name"),
    "amount": ("amount", "currency"),
    "cost": ("cost", "cost_currency"),
}


def units_of(form) -> dict[str, tuple[str, ...]]:
    """{unit: the form's input names} of every input the form offers the user (hidden fields are
    not in the form, read-only ones are marked restricted): each input alone, then the composites."""
    names = [n for n in form.fields if not form.fields[n].widget.is_hidden]
    out: dict[str, tuple[str, ...]] = {n: (n,) for n in names}
    for unit, parts in COMPOSITES.items():
        if all(p in out for p in parts) and (unit not in out or unit in parts):
            out[unit] = parts
    return out


def editable_units(form) -> dict[str, tuple[str, ...]]:
    """The units of the form the user may change: none of its inputs read-only for the role."""
    return {u: parts for u, parts in units_of(form).items() if not any(p in form.restricted for p in parts)}


def unit_label(form, unit: str, parts: tuple[str, ...]) -> str:
    """What a person calls the unit: its input's label, or the composite's name ("Name", "Amount")."""
    if len(parts) > 1:
        return unit.replace("_", " ").capitalize()
    return str(form.fields[parts[0]].label or unit.replace("_", " ").capitalize())


def labelled_units(form) -> dict[str, str]:
    """{unit: label} of the units the user may change."""
    return {u: unit_label(form, u, parts) for u, parts in editable_units(form).items()}


def unit_of_key(kind, key: str, units: dict) -> str | None:
    """The unit holding a registry field or list column (``name``, ``owner``, ``cf_seats``), or None."""
    if kind.run_time and not key.startswith("cf_"):
        name_field = kind.type.extra["type"].name_field
        if key == "name":
            key = f"cf_{name_field}"
        elif key in definitions(kind.object_type):
            key = f"cf_{key}"
    if key == "tag":
        key = "tags"
    return key if key in units else None


def new_form(kind, obj, user, data=None, **kwargs):
    return form_class_of(kind.type)(data, user=user, instance=obj, **kwargs)


class Editor:
    """One unit of one record, for ``user``: the cut-down form and the data its input means.

    Unknown units and units hidden from the role are NotFound (as a hidden value does not exist for
    them); read-only ones are PermissionDenied."""

    def __init__(self, kind, obj, user, unit: str):
        self.kind, self.obj, self.user, self.unit = kind, obj, user, unit
        full = new_form(kind, obj, user)
        units = units_of(full)
        if unit not in units:
            raise NotFound(f"This {kind.singular} has no field {unit!r} you may edit.")
        if unit not in editable_units(full):
            raise PermissionDenied(fieldrules.READ_MESSAGE)
        self.parts = units[unit]
        self.label = unit_label(full, unit, self.parts)

    def form(self, data=None):
        """The type's form holding only this unit's inputs (bound to ``data`` when given)."""
        # Ids of its own: several editors (list rows) may be open beside the page's other forms.
        form = new_form(self.kind, self.obj, self.user, data, auto_id=f"inline-{self.obj.pk}-%s")
        form._inline_others = {n: f for n, f in form.fields.items() if n not in self.parts}
        for name in form._inline_others:
            del form.fields[name]
        return form

    def data(self, form) -> dict:
        """The service data of a valid cut-down form: only the keys its inputs fill. The form's own
        ``to_data`` builds the whole dict (the inputs left out stand at their initial values), then
        the keys of other inputs are dropped, so nothing else is written."""
        filler = {n: form.initial.get(n, f.initial) for n, f in form._inline_others.items()}
        form.cleaned_data = {**filler, **form.cleaned_data}
        full = form.to_data()
        form.fields.update(form._inline_others)  # field_for() maps keys by the form's inputs
        try:
            return self._own_keys(form, full)
        finally:
            for name in form._inline_others:
                del form.fields[name]

    def _own_keys(self, form, full: dict) -> dict:
        out = {}
        for key, value in full.items():
            if key == "custom_fields" and isinstance(value, dict):
                mine = {k: v for k, v in value.items() if form.field_for(f"custom_fields.{k}") in self.parts}
                if mine:
                    out["custom_fields"] = mine
            elif form.field_for(key) in self.parts:
                out[key] = value
        return out
