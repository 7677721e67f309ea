"""Configuration screens: pipelines and stages, tags. Records themselves are edited in the app and
API, where the services keep the change log; the admin shows them read-only."""

from django.contrib import admin

from crm.records.models import Pipeline, Stage, Tag


class StageInline(admin.TabularInline):
    model = Stage
    extra = 1
    fields = ("name", "order", "probability", "is_won", "is_lost")


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "is_default")
    inlines = [StageInline]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)
