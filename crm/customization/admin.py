from django.contrib import admin

from crm.access.serviceadmin import CheckedForm, ServiceAdmin
from crm.customization import services
from crm.customization.models import CustomField


class CustomFieldForm(CheckedForm):
    check = staticmethod(services.check)

    class Meta:
        model = CustomField
        fields = services.FIELDS


@admin.register(CustomField)
class CustomFieldAdmin(ServiceAdmin):
    form = CustomFieldForm
    list_display = ("object_type", "key", "label", "field_type", "required", "unique", "order")
    list_filter = ("object_type", "field_type")
    service_fields = services.FIELDS

    def create(self, actor, data):
        return services.custom_field_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return services.custom_field_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        # The admin's "Are you sure?" page is the confirmation: values held in records go with the field.
        services.custom_field_delete(obj, actor=actor, confirm=True)
