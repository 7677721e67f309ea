"""Forms collect input for a service call; they never save. Service errors come back onto fields."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.bounds import bounded_fields
from crm.core.errors import ServiceError
from crm.customization import secrets
from crm.customization.models import FieldType
from crm.customization.validation import definitions
from crm.web.forms.widgets import RecordPicker


def user_choices(blank: str = "— nobody —") -> list[tuple[str, str]]:
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    return [("", blank), *((str(u.pk), u.get_full_name() or u.username) for u in users)]


def picker(object_type: str, label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, widget=RecordPicker(object_type))


class ServiceForm(forms.Form):
    """A form for one record type: its own fields plus the custom fields defined for the type."""

    object_type = ""
    # Service error keys that name a list item or an id map onto the field a person sees.
    aliases: dict[str, str] = {}

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user, self.instance = user, instance
        self.restricted: dict[str, str] = {}
        kwargs.setdefault("label_suffix", "")
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, RecordPicker):
                field.widget.user = user
        self._add_custom_fields(instance)
        self._apply_bounds()
        if not getattr(self, "_initialising", False):
            self._apply_field_rules()

    def _apply_bounds(self) -> None:
        """A declared number's bounds (RecordField.min_value/max_value) as the input's min/max and
        checked here too; the services check them again (crm/core/bounds.py)."""
        rt = recordtypes.by_type(self.object_type)
        for f in bounded_fields(rt) if rt is not None else ():
            field = self.fields.get(f.name)
            if not isinstance(field, forms.IntegerField | forms.DecimalField):
                continue
            if f.min_value is not None and field.min_value is None:
                field.min_value = f.min_value
                field.validators.append(MinValueValidator(f.min_value))
            if f.max_value is not None and field.max_value is None:
                field.max_value = f.max_value
                field.validators.append(MaxValueValidator(f.max_value))
            field.widget.attrs.update(field.widget_attrs(field.widget))

    def __init_subclass__(cls, **kwargs):
        """The field rules apply once the outermost ``__init__`` has run (a subclass's own __init__ still
        sets up the fields it declares), and each form's ``to_data`` leaves out the fields the user's
        role may not set (see _apply_field_rules): the services refuse any data that names one."""
        super().__init_subclass__(**kwargs)
        own_init = cls.__dict__.get("__init__")
        if own_init is not None and not getattr(own_init, "restricted", False):

            def __init__(self, *args, _own=own_init, **kw):
                outer = not getattr(self, "_initialising", False)
                self._initialising = True
                _own(self, *args, **kw)
                if outer:
                    self._initialising = False
                    self._apply_field_rules()

            __init__.restricted = True
            cls.__init__ = __init__
        own = cls.__dict__.get("to_data")
        if own is not None and not getattr(own, "restricted", False):

            def to_data(self, _own=own) -> dict:
                return self._settable(_own(self))

            to_data.restricted = True
            cls.to_data = to_data

    # --- field rules of the user's role (crm/access/fieldrules.py) ---------------------------------
    def _apply_field_rules(self) -> None:
        """Hidden fields are removed (their values are not in the page), read-only ones shown disabled."""
        rt = recordtypes.by_type(self.object_type)
        policy = policy_for(self.user)
        if rt is None or not (policy.hidden_fields(rt.object_type) or policy.read_only_fields(rt.object_type)):
            return
        known = fieldrules.aliases(rt)
        for name in list(self.fields):
            rule = policy.field_rule(rt.object_type, fieldrules.field_of(rt, name, known) or "")
            if rule == fieldrules.HIDDEN:
                del self.fields[name]
                self.initial.pop(name, None)
            elif rule == fieldrules.READ:
                self.fields[name].widget.attrs["disabled"] = True
                self.fields[name].required = False
            if rule:
                self.restricted[name] = rule
        self._restricted_keys = {k for k, f in known.items() if policy.field_rule(rt.object_type, f)}
        self._restricted_custom = {
            key for key in self.custom if policy.field_rule(rt.object_type, fieldrules.custom_name(rt, key))
        }

    def clean(self):
        """A read-only field posted with another value than it holds is an error on that field (the
        page never posts it: a disabled input is not sent). A hidden field is not in the form at all."""
        data = super().clean()
        for name, rule in self.restricted.items():
            if rule == fieldrules.READ and name in self.fields and self._posted_change(name):
                self.add_error(name, fieldrules.READ_MESSAGE)
            data.setdefault(name, self.get_initial_for_field(self.fields[name], name) if name in self.fields else None)
        return data

    def _posted_change(self, name: str) -> bool:
        field, key = self.fields[name], self.add_prefix(name)
        if isinstance(field.widget, forms.CheckboxInput):
            omitted = key not in self.data
        else:
            omitted = field.widget.value_omitted_from_data(self.data, self.files, key)
        if omitted:
            return False
        posted = field.widget.value_from_datadict(self.data, self.files, key)
        return field.has_changed(self.get_initial_for_field(field, name), posted)

    def _settable(self, data: dict) -> dict:
        """``data`` without the keys of fields the role may not set."""
        if not self.restricted and not getattr(self, "_restricted_keys", None):
            return data
        out = {k: v for k, v in data.items() if k not in self._restricted_keys and not k.startswith("cf_")}
        out |= {k: v for k, v in data.items() if k.startswith("cf_") and k[3:] not in self._restricted_custom}
        if isinstance(out.get("custom_fields"), dict):
            out["custom_fields"] = {k: v for k, v in out["custom_fields"].items() if k not in self._restricted_custom}
        return out

    # --- custom fields --------------------------------------------------------------------
    def _add_custom_fields(self, instance) -> None:
        self.custom = definitions(self.object_type)
        for key, d in self.custom.items():
            name = f"cf_{key}"
            self.fields[name] = custom_form_field(d)
            if instance is not None and name not in self.initial:
                self.initial[name] = _initial_custom(d, secrets.reveal(instance.custom_fields).get(key))

    def custom_data(self) -> dict:
        return {key: custom_value(d, self.cleaned_data.get(f"cf_{key}")) for key, d in self.custom.items()}

    # --- the service's side ----------------------------------------------------------------
    def initial_from(self, obj) -> dict:
        return {}

    def to_data(self) -> dict:
        raise NotImplementedError

    def add_service_error(self, exc: ServiceError) -> None:
        """Put each of the service's field messages on the matching field, the rest on top."""
        if not exc.fields:
            self.add_error(None, exc.message)
            return
        for key, message in exc.fields.items():
            name = self.field_for(key)
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
            else:
                self.add_error(None, message)

    def field_for(self, key: str) -> str:
        if key.startswith("custom_fields."):
            return "cf_" + key.split(".", 1)[1]
        base = key.split(".", 1)[0]
        base = self.aliases.get(base, base)
        if base.endswith("_id") and base[:-3] in self.fields:
            return base[:-3]
        return base

    # --- helpers for subclasses --------------------------------------------------------------
    def id_or_none(self, name: str) -> int | None:
        value = self.cleaned_data.get(name)
        return int(value) if value not in (None, "") else None


def custom_form_field(d) -> forms.Field:
    common = {"label": d.label, "required": d.required and d.field_type != FieldType.BOOLEAN, "help_text": d.help_text}
    t = d.field_type
    if t == FieldType.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, **common)
    if t == FieldType.INTEGER:
        return forms.IntegerField(**common)
    if t == FieldType.DECIMAL:
        return forms.DecimalField(**common)
    if t == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if t == FieldType.DATETIME:
        return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common)
    if t == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if t == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *((c, c) for c in d.choices)], **common)
    if t == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in d.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if t == FieldType.URL:
        return forms.URLField(**common)
    if t == FieldType.EMAIL:
        return forms.EmailField(**common)
    if t == FieldType.USER or (t == FieldType.LOOKUP and d.target == "user"):
        return forms.TypedChoiceField(choices=user_choices(), coerce=int, empty_value=None, **common)
    if t == FieldType.LOOKUP:
        return forms.IntegerField(widget=RecordPicker(d.target), **common)
    if t == FieldType.PHONE:
        return forms.CharField(max_length=40, widget=forms.TextInput(attrs={"type": "tel"}), **common)
    if t == FieldType.MONEY:
        return MoneyField(**common)
    return forms.CharField(max_length=255, **common)


class MoneyWidget(forms.MultiWidget):
    def __init__(self, attrs=None):
        amount = forms.NumberInput(attrs={"step": "0.01", "aria-label": "Amount"})
        currency = forms.TextInput(attrs={"size": 3, "maxlength": 3, "aria-label": "Currency", "placeholder": "EUR"})
        super().__init__([amount, currency], attrs)

    def decompress(self, value):
        if isinstance(value, dict):
            return [value.get("amount"), value.get("currency")]
        return [None, None]


class MoneyField(forms.MultiValueField):
    """An amount and its currency, stored together ({"amount", "currency"}): never one without the other."""

    widget = MoneyWidget

    def __init__(self, **kwargs):
        fields = (
            forms.DecimalField(max_digits=18, decimal_places=2, required=False),
            forms.CharField(min_length=3, max_length=3, required=False),
        )
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        amount, currency = (list(data_list) + [None, None])[:2]
        if amount in (None, "") and not currency:
            return None
        if amount in (None, "") or not currency:
            raise forms.ValidationError("Give the amount and its three-letter currency (e.g. 12.50 EUR).")
        return {"amount": str(amount), "currency": currency.upper()}


def custom_value(d, value):
    """The JSON value clean_custom_fields() expects for a cleaned form value."""
    if value in (None, "", []):
        return False if d.field_type == FieldType.BOOLEAN else None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if d.field_type == FieldType.DECIMAL:
        return str(value)
    return value


def _initial_custom(d, value):
    if value is None:
        return None
    if d.field_type == FieldType.DATETIME and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value
