"""Settings saved in the Django admin (roles, custom fields, pipelines and stages) go through their
services: each save and delete is in the change log with the admin user as its actor."""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from crm.access import services as role_services
from crm.access.models import Role
from crm.audit.models import ObjectChange
from crm.core.errors import Conflict, PermissionDenied
from crm.customization.models import CustomField
from crm.records.models import Pipeline, Stage
from crm.records.services import pipelines
from tests.factories import DealFactory, PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(root):
    client = Client()
    client.force_login(root)
    return client


def log_of(object_type: str, pk: int) -> list[tuple]:
    rows = ObjectChange.objects.filter(object_type=object_type, object_id=pk).order_by("id")
    return [(e.action, e.user.username if e.user else None, e.source, e.changes) for e in rows]


def role_post(**overrides):
    return {"name": "Auditor", "slug": "auditor", "scope": "all", "permissions": '{"contact": ["view"]}', **overrides}


def test_role_save_and_delete_are_logged(admin_client):
    assert admin_client.post("/admin/access/role/add/", role_post()).status_code == 302
    role = Role.objects.get(slug="auditor")
    [(action, user, source, changes)] = log_of("role", role.pk)
    assert (action, user, source) == ("create", "root", "admin")
    assert changes["permissions"] == [None, {"contact": ["view"]}] and changes["scope"] == [None, "all"]

    changed = role_post(permissions='{"contact": ["view", "export"]}')
    assert admin_client.post(f"/admin/access/role/{role.pk}/change/", changed).status_code == 302
    assert log_of("role", role.pk)[-1] == (
        "update",
        "root",
        "admin",
        {"permissions": [{"contact": ["view"]}, {"contact": ["view", "export"]}]},
    )

    assert admin_client.post(f"/admin/access/role/{role.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Role.objects.filter(pk=role.pk).exists()
    action, user, source, changes = log_of("role", role.pk)[-1]
    assert (action, user, source) == ("delete", "root", "admin") and changes["name"] == ["Auditor", None]


def test_a_role_the_service_refuses_is_a_form_error_and_not_saved(admin_client):
    r = admin_client.post("/admin/access/role/add/", role_post(permissions='{"contact": "view, delete"}'))
    assert r.status_code == 200 and "must be a list" in str(r.context["adminform"].form.errors["permissions"])
    assert not Role.objects.filter(slug="auditor").exists()
    assert not ObjectChange.objects.filter(object_type="role").exists()


def test_deleting_selected_roles_goes_through_the_service(admin_client, root):
    role = role_services.role_create(actor=root, data={"name": "Temp", "slug": "temp"})
    data = {"action": "delete_selected", "_selected_action": [role.pk], "post": "yes"}
    assert admin_client.post("/admin/access/role/", data).status_code == 302
    assert [e[0] for e in log_of("role", role.pk)] == ["create", "delete"]


def test_staff_without_the_admin_role_cannot_change_roles():
    staff = UserFactory(username="staffer", role="sales-rep", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="access", codename__endswith="role"))
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/access/role/").status_code == 200  # Django's view permission still shows the list
    assert client.post("/admin/access/role/add/", role_post()).status_code == 403
    assert not Role.objects.filter(slug="auditor").exists()
    with pytest.raises(PermissionDenied):
        role_services.role_create(actor=staff, data={"name": "Auditor", "slug": "auditor"})


def field_post(**overrides):
    data = {"object_type": "contact", "key": "region", "label": "Region", "field_type": "choice"}
    return {**data, "choices": '["north", "south"]', "default": '"north"', "order": "0", "help_text": "", **overrides}


def test_custom_field_save_and_delete_are_logged(admin_client):
    assert admin_client.post("/admin/customization/customfield/add/", field_post()).status_code == 302
    field = CustomField.objects.get(key="region")
    [(action, user, source, changes)] = log_of("custom_field", field.pk)
    assert (action, user, source) == ("create", "root", "admin")
    assert changes["object_type"] == [None, "contact"] and changes["choices"] == [None, ["north", "south"]]
    assert not ObjectChange.objects.filter(object_type="contact").exists()  # logged as a field, not a contact

    url = f"/admin/customization/customfield/{field.pk}/change/"
    assert admin_client.post(url, field_post(label="Sales region")).status_code == 302
    assert log_of("custom_field", field.pk)[-1][3] == {"label": ["Region", "Sales region"]}

    assert admin_client.post(f"/admin/customization/customfield/{field.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CustomField.objects.filter(pk=field.pk).exists()
    assert log_of("custom_field", field.pk)[-1][0] == "delete"


def test_a_custom_field_the_service_refuses_is_a_form_error(admin_client):
    url = "/admin/customization/customfield/add/"
    r = admin_client.post(url, field_post(choices="[]", default=""))
    assert r.status_code == 200 and "at least one choice" in str(r.context["adminform"].form.errors["choices"])
    r = admin_client.post(url, field_post(default='"east"'))
    assert r.status_code == 200 and "Must be one of" in str(r.context["adminform"].form.errors["default"])
    assert not CustomField.objects.exists() and not ObjectChange.objects.exists()


def stage_rows(*rows, initial=0):
    data = {
        "stages-TOTAL_FORMS": str(len(rows)),
        "stages-INITIAL_FORMS": str(initial),
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data |= {f"stages-{i}-{k}": v for k, v in row.items()}
    return data


def test_pipeline_and_stage_saves_and_deletes_are_logged(admin_client):
    rows = stage_rows(
        {"name": "Intro", "order": "1", "probability": "10"},
        {"name": "Signed", "order": "2", "probability": "100", "is_won": "on"},
    )
    r = admin_client.post("/admin/records/pipeline/add/", {"name": "Partners", "order": "3", **rows})
    assert r.status_code == 302
    pipeline = Pipeline.objects.get(name="Partners")
    intro, signed = pipeline.stages.order_by("order")
    assert log_of("pipeline", pipeline.pk)[0][:3] == ("create", "root", "admin")
    for stage in (intro, signed):
        [(action, user, source, changes)] = log_of("stage", stage.pk)
        assert (action, user, source) == ("create", "root", "admin")
        assert changes["pipeline_id"] == [None, pipeline.pk] and changes["name"] == [None, stage.name]

    rows = stage_rows(
        {"id": str(intro.pk), "pipeline": str(pipeline.pk), "name": "Introduction", "order": "1", "probability": "20"},
        {"id": str(signed.pk), "pipeline": str(pipeline.pk), "name": "Signed", "order": "2", "probability": "100"}
        | {"is_won": "on", "DELETE": "on"},
        initial=2,
    )
    url = f"/admin/records/pipeline/{pipeline.pk}/change/"
    assert admin_client.post(url, {"name": "Partners", "order": "4", **rows}).status_code == 302
    assert log_of("pipeline", pipeline.pk)[-1][3] == {"order": [3, 4]}
    assert log_of("stage", intro.pk)[-1][3] == {"name": ["Intro", "Introduction"], "probability": [10, 20]}
    assert log_of("stage", signed.pk)[-1][:2] == ("delete", "root")
    assert not Stage.objects.filter(pk=signed.pk).exists()

    assert admin_client.post(f"/admin/records/pipeline/{pipeline.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Pipeline.objects.filter(pk=pipeline.pk).exists()
    assert log_of("pipeline", pipeline.pk)[-1][:3] == ("delete", "root", "admin")
    action, user, _, changes = log_of("stage", intro.pk)[-1]  # the cascade is logged too
    assert (action, user) == ("delete", "root") and changes["name"] == ["Introduction", None]


def test_a_pipeline_or_stage_with_deals_is_not_deleted(root):
    pipeline = PipelineFactory(name="Busy")
    deal = DealFactory(pipeline=pipeline)
    with pytest.raises(Conflict):
        pipelines.pipeline_delete(pipeline, actor=root)
    with pytest.raises(Conflict):
        pipelines.stage_delete(deal.stage, actor=root)
    assert Pipeline.objects.filter(pk=pipeline.pk).exists() and Stage.objects.filter(pk=deal.stage_id).exists()
    assert not ObjectChange.objects.filter(action="delete").exists()


def test_no_write_without_the_admin_role(rep_a, pipeline):
    stage = pipeline.stages.first()
    with pytest.raises(PermissionDenied):
        pipelines.stage_update(stage, actor=rep_a, data={"name": "Mine now"})
    with pytest.raises(PermissionDenied):
        pipelines.pipeline_delete(pipeline, actor=rep_a)
    assert Stage.objects.get(pk=stage.pk).name == stage.name


def test_json_values_round_trip_through_the_admin_form(admin_client):
    """The admin's JSON fields arrive as Python values: the service stores and logs them as such."""
    data = field_post(field_type="integer", choices="", default="7")
    assert admin_client.post("/admin/customization/customfield/add/", data).status_code == 302
    field = CustomField.objects.get(key="region")
    assert field.default == 7 and field.choices == []
    assert json.loads(json.dumps(log_of("custom_field", field.pk)[0][3]))["default"] == [None, 7]
