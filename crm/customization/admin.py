from django.contrib import admin

from crm.customization.models import CustomField


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ("object_type", "key", "label", "field_type", "required", "order")
    list_filter = ("object_type", "field_type")
