"""The form of a record type: the class its declaration names (``RecordType.form``), else one built
from the type's fields, as for the custom object types admins define (crm/objects).

A built form holds the type's own editable fields (a declared type's; a custom type has none but its
values), the owner and every custom field of the type (the custom-field form fields of
crm.web.forms.base). A custom type's services take flat ``{key: value, "owner_id": id}``; a declared
type's take its fields plus ``custom_fields``. Service errors come back onto the matching inputs.
"""

from __future__ import annotations

from functools import cache

from django import forms
from django.utils.module_loading import import_string

from crm.core import recordtypes
from crm.web.forms.base import ServiceForm
from crm.web.forms.records import OwnedForm
from crm.web.forms.widgets import RecordPicker

# Not typed in: set by the services, or the owner (its own select).
SKIPPED = {"id", "owner", "created_at", "updated_at", "tag"}


def form_class(rt) -> type[ServiceForm]:
    """The form class of a record type (crm.core.recordtypes.RecordType)."""
    if rt.form:
        return import_string(rt.form)
    if rt.run_time:
        return _built(rt.object_type, rt.extra["type"].name_field, ())
    own = tuple(f for f in rt.fields if f.name not in SKIPPED and not f.read_only and not f.link)
    return _built(rt.object_type, "", own)


@cache
def _built(object_type: str, name_field: str, own: tuple) -> type[ServiceForm]:
    # Per type, not per definition: the custom fields are read each time a form is made.
    attrs = {"object_type": object_type, "name_field": name_field, "own": [f.name for f in own]}
    # A declared reference (``company`` read through ``company_id``) reaches its service as ``company_id``,
    # the services' name for a related record's id.
    attrs["id_keys"] = {f.name: f.lookup for f in own if f.lookup == f"{f.name}_id"}
    attrs |= {f.name: own_field(f) for f in own}
    return type(f"{object_type.title()}Form", (GenericForm,), attrs)


def own_field(f) -> forms.Field:
    """An input for a declared field, by its kind."""
    common = {"label": f.label or f.name.replace("_", " ").capitalize(), "required": f.required}
    if f.kind == "int" and f.lookup == f"{f.name}_id" and recordtypes.by_type(f.name) is not None:
        return forms.IntegerField(widget=RecordPicker(f.name), **common)  # a reference: pick the record
    if f.kind == "int":
        return forms.IntegerField(**common)
    if f.kind == "decimal":
        return forms.DecimalField(max_digits=18, decimal_places=2, **common)
    if f.kind == "bool":
        return forms.BooleanField(**{**common, "required": False})
    if f.kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if f.kind == "datetime":
        return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common)
    if f.kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *f.choices], **common)
    return forms.CharField(max_length=255, **common)


class GenericForm(OwnedForm):
    """The own fields, the owner, then the custom fields as ``cf_<key>``; a custom type's name first."""

    name_field = ""
    own: list[str] = []
    id_keys: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = f"cf_{self.name_field}"
        self.order_fields([*([name] if name in self.fields else []), *self.own, "owner"])

    def initial_from(self, obj) -> dict:
        own = {n: getattr(obj, self.id_keys.get(n, n), None) for n in self.own}  # a reference: its id
        return {"owner": str(obj.owner_id or ""), **own}

    def to_data(self) -> dict:
        if not self.own and self.name_field:  # a custom type: its values are flat
            return {**self.custom_data(), **self.owner_data()}
        own = {self.id_keys.get(n, n): self.cleaned_data.get(n) for n in self.own}
        return {**own, **self.owner_data(), "custom_fields": self.custom_data()}

    def field_for(self, key: str) -> str:
        """A custom type's services name a value by its key ("seats"), the form holds it as cf_seats."""
        if self.name_field and key in self.custom:
            return f"cf_{key}"
        return super().field_for(key)
