"""The form of a record type: the class its declaration names (``RecordType.form``), else one built
from the type's fields, as for the custom object types admins define (crm/objects).

A built form holds the name field, the owner and every custom field of the type (the custom-field
form fields of crm.web.forms.base); it sends the flat ``{key: value, "owner_id": id}`` the custom
record services take, and their field errors come back onto the matching inputs.
"""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from crm.web.forms.base import ServiceForm
from crm.web.forms.records import OwnedForm


def form_class(rt) -> type[ServiceForm]:
    """The form class of a record type (crm.core.recordtypes.RecordType)."""
    if rt.form:
        return import_string(rt.form)
    return _built(rt.object_type, rt.extra.get("type").name_field if rt.extra.get("type") else "name")


@cache
def _built(object_type: str, name_field: str) -> type[ServiceForm]:
    # Per type and name field, not per definition: the custom fields are read when a form is made.
    return type(f"{object_type.title()}Form", (GenericForm,), {"object_type": object_type, "name_field": name_field})


class GenericForm(OwnedForm):
    """Owner plus the type's custom fields as ``cf_<key>`` inputs; the name field first."""

    name_field = "name"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = f"cf_{self.name_field}"
        self.order_fields([*([name] if name in self.fields else []), "owner"])

    def initial_from(self, obj) -> dict:
        return {"owner": str(obj.owner_id or "")}

    def to_data(self) -> dict:
        return {**self.custom_data(), **self.owner_data()}

    def field_for(self, key: str) -> str:
        """The services name a value by its key ("seats"), the form holds it as cf_seats."""
        if key in self.custom:
            return f"cf_{key}"
        return super().field_for(key)
