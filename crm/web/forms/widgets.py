"""A search-as-you-type picker for a related record: scales to a million companies, unlike a select."""

from __future__ import annotations

from django import forms

from crm.core import recordtypes


class RecordPicker(forms.Widget):
    template_name = "web/widgets/picker.html"

    def __init__(self, object_type: str, attrs=None):
        super().__init__(attrs)
        self.object_type = object_type
        self.user = None  # set by the form: only records the user can see are named

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update({"object_type": self.object_type, "label_text": self._label(value), "pk": value or ""})
        return context

    def _label(self, value) -> str:
        if value in (None, "") or self.user is None:
            return ""
        visible = recordtypes.record_queryset(self.object_type, self.user)  # types defined at run time too
        try:
            obj = visible.filter(pk=int(value)).first() if visible is not None else None
        except (TypeError, ValueError):
            return ""
        return str(obj) if obj else ""
