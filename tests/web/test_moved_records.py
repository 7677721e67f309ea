"""A record an assignment rule took from the user who saved it: the user is told where it went and
never meets a bare 404; the page leaks none of the record's fields."""

import pytest

from crm.automation import rules
from crm.automation.models import Notification
from crm.records.models import Lead
from tests.automation.conftest import IMMEDIATE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline_jobs(settings):
    settings.TASKS = IMMEDIATE


def assign_rule(admin, team, **options):
    action = {"type": "assign_owner", "strategy": "round_robin", "team_id": team.pk}
    action = {**action, **options}
    data = {"name": "Spread the leads", "object_type": "lead", "trigger_type": "created", "actions": [action]}
    return rules.rule_create(actor=admin, data=data)


def create_in_the_web_app(web, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        data = {"first_name": "Ann", "last_name": "Secret", "email": "ann@hidden.example", "status": "new"}
        r = web(user).post("/leads/new/", {**data, "owner": str(user.pk)})  # the owner select's default
    assert r.status_code == 302, r.content
    return Lead.objects.get(email="ann@hidden.example")


def test_the_web_form_makes_the_rep_the_owner(web, rep_b):
    r = web(rep_b).get("/leads/new/")
    assert f'<option value="{rep_b.pk}" selected>' in r.content.decode()


def test_the_demo_default_keeps_the_rep_s_new_lead(
    web, admin_user, team, rep_a, rep_b, inline_jobs, django_capture_on_commit_callbacks
):
    assign_rule(admin_user, team)
    lead = create_in_the_web_app(web, rep_b, django_capture_on_commit_callbacks)
    assert lead.owner == rep_b
    assert web(rep_b).get(f"/leads/{lead.pk}/").status_code == 200


def test_a_lead_moved_by_a_rule_explains_itself(
    web, admin_user, team, rep_a, rep_b, inline_jobs, django_capture_on_commit_callbacks
):
    assign_rule(admin_user, team, reassign_owned=True)
    lead = create_in_the_web_app(web, rep_b, django_capture_on_commit_callbacks)
    assert lead.owner == rep_a  # the team's only member; rep_b's role sees its own leads only
    client = web(rep_b)
    for url in (f"/leads/{lead.pk}/", f"/leads/{lead.pk}/edit/", f"/leads/{lead.pk}/convert/"):
        r = client.get(url)
        page = r.content.decode()
        assert r.status_code == 404 and r["X-Record-Moved"] == "1", url
        assert "This lead was assigned to someone else" in page and "ask your manager" in page
        assert "Lead “Ann Secret” was assigned to rep_a by rule “Spread the leads”." in page
        assert "ann@hidden.example" not in page
    r = client.post(f"/leads/{lead.pk}/quick/activity/", {"kind": "note", "body": "hello"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 404 and r["X-Record-Moved"] == "1"


def test_someone_who_never_owned_it_gets_the_plain_404(
    web, admin_user, team, rep_a, rep_b, inline_jobs, django_capture_on_commit_callbacks
):
    assign_rule(admin_user, team, reassign_owned=True)
    lead = create_in_the_web_app(web, rep_b, django_capture_on_commit_callbacks)
    stranger = UserFactory(username="stranger", role="sales-rep")
    r = web(stranger).get(f"/leads/{lead.pk}/")
    assert r.status_code == 404 and "X-Record-Moved" not in r
    assert "assigned to someone else" not in r.content.decode()
    assert web(rep_b).get("/leads/999999/").status_code == 404


def test_a_user_who_still_sees_it_is_told_on_its_page(
    web, admin_user, team, manager, rep_a, inline_jobs, django_capture_on_commit_callbacks
):
    assign_rule(admin_user, team, reassign_owned=True, team_id=None, user_ids=[rep_a.pk])
    lead = create_in_the_web_app(web, manager, django_capture_on_commit_callbacks)  # team scope: keeps read access
    assert lead.owner != manager
    page = web(manager).get(f"/leads/{lead.pk}/").content.decode()
    assert "was assigned to" in page and "by rule “Spread the leads”" in page
    assert not Notification.objects.filter(user=manager, read_at__isnull=True).exists()  # told once
    assert "by rule" not in web(manager).get(f"/leads/{lead.pk}/").content.decode()
