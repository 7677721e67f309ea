"""Forms of the object-type settings pages: they collect input for crm/objects/services.py and
crm/customization/services.py and never save; the services' errors come back onto the fields."""

from __future__ import annotations

from django import forms

from crm.core import recordtypes
from crm.customization.models import CustomField, FieldType
from crm.customization.secrets import ENCRYPTABLE_TYPES
from crm.customization.services import CHOICE_TYPES, LOOKUP_TARGETS
from crm.objects.models import ObjectType
from crm.web.forms.base import ServiceForm

TYPE_FIELDS = ("singular", "plural", "icon", "colour", "description")


class SettingsForm(forms.Form):
    """Puts a service error on the field it names, as the record forms do (without their custom fields)."""

    aliases: dict[str, str] = {}
    add_service_error = ServiceForm.add_service_error
    field_for = ServiceForm.field_for

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TypeForm(SettingsForm):
    """A new type (key, slug and the key of the name field it creates) or a change to one (the key and
    slug are then fixed: permissions, the change log and every record URL use them)."""

    key = forms.CharField(max_length=30, help_text="Lower-case letters, digits and _; it never changes.")
    slug = forms.CharField(max_length=40, help_text="The URL of its records; it never changes.")
    singular = forms.CharField(max_length=60)
    plural = forms.CharField(max_length=60)
    icon = forms.CharField(max_length=40, required=False, help_text="An emoji or an icon name.")
    colour = forms.CharField(max_length=7, initial="#6b7280", widget=forms.TextInput(attrs={"type": "color"}))
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    name_field = forms.CharField(
        max_length=50, initial="name", help_text="The key of the text field that names a record."
    )

    def __init__(self, *args, instance: ObjectType | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {n: getattr(instance, n) for n in (*TYPE_FIELDS, "name_field")})
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["key"], self.fields["slug"]
            texts = CustomField.objects.filter(object_type=instance.key, field_type=FieldType.TEXT)
            self.fields["name_field"] = forms.ChoiceField(
                choices=[(f.key, f.label) for f in texts.order_by("order", "id")],
                help_text="The text field that names a record.",
            )

    def to_data(self) -> dict:
        names = TYPE_FIELDS + ("name_field",) + (() if self.instance else ("key", "slug"))
        return {n: self.cleaned_data[n] for n in names}


def lookup_targets() -> list[tuple[str, str]]:
    """What a lookup may point at, as the service allows: the built-in targets and every custom type."""
    builtin = [(k, (rt.plural if (rt := recordtypes.by_type(k)) else "users").capitalize()) for k in LOOKUP_TARGETS]
    custom = [(rt.object_type, rt.plural.capitalize()) for rt in recordtypes.all_types() if rt.run_time]
    return [("", "—"), *builtin, *custom]


class FieldForm(SettingsForm):
    """One field definition of a type; choices one a line."""

    key = forms.CharField(max_length=50, help_text="Lower-case letters, digits and _: the key of its values.")
    label = forms.CharField(max_length=100)
    field_type = forms.ChoiceField(choices=FieldType.choices, label="Type")
    choices = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Choice fields: one choice a line."
    )
    target = forms.ChoiceField(required=False, label="Looks up", help_text="Lookup fields: what they point at.")
    help_text = forms.CharField(max_length=255, required=False)
    required = forms.BooleanField(required=False)
    unique = forms.BooleanField(required=False, help_text="No two records hold the same value.")
    searchable = forms.BooleanField(required=False, help_text="Global search finds records by it.")
    encrypted = forms.BooleanField(
        required=False,
        help_text="Values stored encrypted: text, long text, email, phone and URL fields only; "
        "then not searchable, sortable or unique, and filtered by equality only.",
        # field_form.js shows the box for these types only
        widget=forms.CheckboxInput(attrs={"data-types": " ".join(ENCRYPTABLE_TYPES)}),
    )
    # The model's only constraint is (object_type, key): Django reports it for the whole form.
    aliases = {"__all__": "key"}

    def __init__(self, *args, instance: CustomField | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            initial = {n: getattr(instance, n) for n in self.base_fields if n != "choices"}
            kwargs.setdefault("initial", initial | {"choices": "\n".join(str(c) for c in instance.choices or [])})
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = lookup_targets()

    def to_data(self) -> dict:
        data = {n: self.cleaned_data[n] for n in self.fields if n != "choices"}
        lines = (line.strip() for line in self.cleaned_data["choices"].splitlines())
        data["choices"] = [line for line in lines if line] if data["field_type"] in CHOICE_TYPES else []
        return data
