"""Passwords change through ``accounts.password_set`` whatever screen is used: validators run, only
the user or an admin may change one, and the change log says so without the value or its hash."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crm.access import accounts
from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db
NEW = "a-Long-new-pass-42"


def password_log(user) -> list[tuple]:
    rows = ObjectChange.objects.filter(object_type="user", object_id=user.pk).order_by("id")
    return [(r.action, r.user_id, r.changes) for r in rows]


def test_own_password_change_on_the_web_is_logged_without_the_hash(rep_a):
    client = Client()
    client.force_login(rep_a)
    r = client.post("/password/", {"old_password": "pw", "new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302
    rep_a.refresh_from_db()
    assert rep_a.check_password(NEW)
    assert password_log(rep_a) == [("update", rep_a.pk, {"password": ["", "changed"]})]
    assert rep_a.password not in str(password_log(rep_a))


def test_the_service_runs_the_validators_itself(rep_a, settings):
    settings.AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
    with pytest.raises(ValidationFailed) as exc:
        accounts.password_set(rep_a, actor=rep_a, password="short")
    assert "password" in exc.value.fields
    rep_a.refresh_from_db()
    assert rep_a.check_password("pw") and password_log(rep_a) == []


def test_only_an_admin_sets_someone_elses_password(rep_a, rep_b, admin_user):
    with pytest.raises(PermissionDenied):
        accounts.password_set(rep_b, actor=rep_a, password=NEW)
    with pytest.raises(PermissionDenied):
        accounts.password_set(rep_a, actor=rep_a, password=None)  # disabling login is an admin's act
    accounts.password_set(rep_b, actor=admin_user, password=NEW)
    rep_b.refresh_from_db()
    assert rep_b.check_password(NEW)
    assert password_log(rep_b) == [("update", admin_user.pk, {"password": ["", "changed"]})]


def test_the_admin_password_screen_goes_through_the_service(rep_a):
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(root)
    url = f"/admin/auth/user/{rep_a.pk}/password/"
    r = client.post(url, {"usable_password": "true", "password1": NEW, "password2": NEW})
    assert r.status_code == 302, r.content.decode()[:2000]
    rep_a.refresh_from_db()
    assert rep_a.check_password(NEW)
    r = client.post(url, {"usable_password": "false", "unset-password": "1"})
    assert r.status_code == 302
    rep_a.refresh_from_db()
    assert not rep_a.has_usable_password()
    changes = [c for _, _, c in password_log(rep_a)]
    assert changes == [{"password": ["", "changed"]}, {"password": ["", "disabled"]}]
    assert all(user == root.pk for _, user, _ in password_log(rep_a))
