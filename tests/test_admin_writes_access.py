"""Teams, users (with their role and team), tags and API tokens saved in the Django admin go through
their services: each save and delete is in the change log with the admin as actor, and the services
refuse anyone who is not an admin."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crm.access import accounts, services, tokens
from crm.access.models import ApiToken, Profile, Role, Team, hash_token
from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied
from crm.records.models import Tag
from crm.records.services import tags
from tests.test_admin_writes import log_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(root):
    client = Client()
    client.force_login(root)
    return client


def test_team_save_and_delete_are_logged(admin_client, manager):
    assert admin_client.post("/admin/access/team/add/", {"name": "North", "manager": manager.pk}).status_code == 302
    team = Team.objects.get(name="North")
    [(action, user, source, changes)] = log_of("team", team.pk)
    assert (action, user, source) == ("create", "root", "admin") and changes["manager_id"] == [None, manager.pk]
    assert admin_client.post(f"/admin/access/team/{team.pk}/change/", {"name": "Nord"}).status_code == 302
    assert log_of("team", team.pk)[-1][3] == {"manager_id": [manager.pk, None], "name": ["North", "Nord"]}
    assert admin_client.post(f"/admin/access/team/{team.pk}/delete/", {"post": "yes"}).status_code == 302
    assert log_of("team", team.pk)[-1][:2] == ("delete", "root") and not Team.objects.filter(pk=team.pk).exists()


def user_change_post(user, **overrides):
    data = {"username": user.username, "first_name": "", "last_name": "", "email": "", "is_active": "on"}
    data |= {"date_joined_0": "2024-01-01", "date_joined_1": "09:00:00", "role": "", "team": "", "time_zone": ""}
    return {**data, **overrides}


def test_a_user_added_with_a_role_and_team_is_one_logged_write(admin_client, team):
    rep = Role.objects.get(slug="sales-rep")
    data = {"username": "newbie", "usable_password": "true", "password1": "Str0ng-pass!", "password2": "Str0ng-pass!"}
    assert admin_client.post("/admin/auth/user/add/", {**data, "role": rep.pk, "team": team.pk}).status_code == 302
    user = User.objects.get(username="newbie")
    assert user.check_password("Str0ng-pass!") and (user.profile.role, user.profile.team) == (rep, team)
    [(action, actor, source, changes)] = log_of("user", user.pk)
    assert (action, actor, source) == ("create", "root", "admin")
    assert changes["role"] == [None, "sales-rep"] and changes["team"] == [None, "East"]
    assert "password" not in changes and not any("pbkdf2" in str(v) for v in changes.values())


def test_changing_a_users_role_and_team_is_logged(admin_client, rep_a):
    manager_role = Role.objects.get(slug="sales-manager")
    url = f"/admin/auth/user/{rep_a.pk}/change/"
    assert (
        admin_client.post(url, user_change_post(rep_a, role=manager_role.pk, email="a@example.com")).status_code == 302
    )
    assert Profile.objects.get(user=rep_a).role == manager_role and Profile.objects.get(user=rep_a).team is None
    action, actor, _, changes = log_of("user", rep_a.pk)[-1]
    assert (action, actor) == ("update", "root")
    assert changes == {
        "email": [rep_a.email, "a@example.com"],
        "role": ["sales-rep", "sales-manager"],
        "team": ["East", None],
        "date_joined": changes["date_joined"],
    }
    assert admin_client.post(f"/admin/auth/user/{rep_a.pk}/delete/", {"post": "yes"}).status_code == 302
    assert log_of("user", rep_a.pk)[-1][:2] == ("delete", "root") and not User.objects.filter(pk=rep_a.pk).exists()


def test_tag_save_and_delete_are_logged_and_a_bad_colour_is_a_form_error(admin_client):
    r = admin_client.post("/admin/records/tag/add/", {"name": "Hot", "color": "red"})
    assert r.status_code == 200 and "six hex digits" in str(r.context["adminform"].form.errors["color"])
    assert admin_client.post("/admin/records/tag/add/", {"name": " Hot ", "color": "#FF0000"}).status_code == 302
    tag = Tag.objects.get(name="Hot")
    assert tag.color == "#ff0000"
    assert log_of("tag", tag.pk) == [("create", "root", "admin", {"color": [None, "#ff0000"], "name": [None, "Hot"]})]
    assert admin_client.post(f"/admin/records/tag/{tag.pk}/change/", {"name": "Warm", "color": ""}).status_code == 302
    assert log_of("tag", tag.pk)[-1][3] == {"color": ["#ff0000", ""], "name": ["Hot", "Warm"]}
    assert admin_client.post(f"/admin/records/tag/{tag.pk}/delete/", {"post": "yes"}).status_code == 302
    assert log_of("tag", tag.pk)[-1][0] == "delete" and not Tag.objects.exists()


def test_a_token_issued_in_the_admin_is_shown_once_stored_as_a_hash_and_revoked_with_a_log_row(admin_client, rep_a):
    r = admin_client.post("/admin/access/apitoken/add/", {"user": rep_a.pk, "name": "zapier"})
    assert r.status_code == 200
    raw = r.context["raw"]
    token = ApiToken.objects.get(user=rep_a)
    assert raw.startswith("crm_") and raw in r.content.decode()
    assert token.key_hash == hash_token(raw) and raw not in str(token.__dict__)
    [(action, actor, source, changes)] = log_of("api_token", token.pk)
    assert (action, actor, source) == ("create", "root", "admin") and changes["name"] == [None, "zapier"]
    assert "key_hash" not in changes and raw[12:] not in str(changes)
    assert raw not in admin_client.get(f"/admin/access/apitoken/{token.pk}/change/").content.decode()

    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/contacts").status_code == 200
    assert admin_client.post(f"/admin/access/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 302
    assert log_of("api_token", token.pk)[-1][:2] == ("delete", "root")
    assert api.get("/api/v1/contacts").status_code == 401


def test_non_admins_are_refused_by_every_service(rep_a, manager, team):
    tag = Tag.objects.create(name="Keep")
    token, _ = ApiToken.issue(rep_a)
    calls = [
        lambda: services.team_create(actor=manager, data={"name": "Mine"}),
        lambda: services.team_update(team, actor=manager, data={"name": "Mine"}),
        lambda: services.team_delete(team, actor=manager),
        lambda: accounts.user_create(actor=manager, data={"username": "sneaky"}),
        lambda: accounts.user_update(rep_a, actor=manager, data={"role": Role.objects.get(slug="admin")}),
        lambda: accounts.user_delete(rep_a, actor=manager),
        lambda: tags.tag_create(actor=rep_a, data={"name": "Mine"}),
        lambda: tags.tag_update(tag, actor=rep_a, data={"name": "Mine"}),
        lambda: tags.tag_delete(tag, actor=rep_a),
        lambda: tokens.token_issue(actor=rep_a, user=rep_a),
        lambda: tokens.token_revoke(token, actor=rep_a),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert Team.objects.get(pk=team.pk).name == "East" and rep_a.profile.role.slug == "sales-rep"
    assert Tag.objects.get(pk=tag.pk).name == "Keep" and ApiToken.objects.filter(pk=token.pk).exists()
    assert not ObjectChange.objects.exists()


def test_a_duplicate_username_is_a_field_error(root, rep_a):
    from crm.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        accounts.user_create(actor=root, data={"username": "rep_a"})
    assert "username" in exc.value.fields
