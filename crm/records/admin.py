"""Configuration screens: pipelines and stages, tags. Records themselves are edited in the app and
API, where the services keep the change log; the admin shows them read-only. Pipelines, stages and
tags are saved and deleted through their services, so those writes are in the change log too."""

from django.contrib import admin

from crm.access.serviceadmin import AdminOnly, CheckedForm, ServiceAdmin, adopt
from crm.records.models import Pipeline, Stage, Tag
from crm.records.services import pipelines, tags


class StageInline(AdminOnly, admin.TabularInline):
    model = Stage
    extra = 1
    fields = pipelines.STAGE_FIELDS


@admin.register(Pipeline)
class PipelineAdmin(ServiceAdmin):
    list_display = ("name", "order", "is_default")
    inlines = [StageInline]
    fields = pipelines.PIPELINE_FIELDS
    service_fields = pipelines.PIPELINE_FIELDS

    def create(self, actor, data):
        return pipelines.pipeline_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return pipelines.pipeline_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        pipelines.pipeline_delete(obj, actor=actor)

    def save_formset(self, request, form, formset, change):
        """The stage rows: deleted first (a new stage may take a deleted one's name), then changed, then new."""
        formset.save(commit=False)  # sorts the rows into the three lists; writes nothing
        actor = request.user
        for stage in formset.deleted_objects:
            pipelines.stage_delete(stage, actor=actor)
        for stage, _changed in formset.changed_objects:
            pipelines.stage_update(stage, actor=actor, data=_values(stage))
        for stage in formset.new_objects:
            adopt(stage, pipelines.stage_create(actor=actor, pipeline=form.instance, data=_values(stage)))


def _values(stage: Stage) -> dict:
    return {name: getattr(stage, name) for name in pipelines.STAGE_FIELDS}


class TagForm(CheckedForm):
    check = staticmethod(tags.check)

    class Meta:
        model = Tag
        fields = tags.FIELDS


@admin.register(Tag)
class TagAdmin(ServiceAdmin):
    form = TagForm
    list_display = ("name", "color")
    search_fields = ("name",)
    service_fields = tags.FIELDS

    def create(self, actor, data):
        return tags.tag_create(actor=actor, data=data)

    def update(self, obj, actor, data):
        return tags.tag_update(obj, actor=actor, data=data)

    def delete(self, obj, actor):
        tags.tag_delete(obj, actor=actor)
