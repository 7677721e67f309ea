"""`crm token create USERNAME` prints a working token and stores only its hash."""

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from crm.access.models import ApiToken

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_token_create_prints_only_a_token_that_authenticates(rep_a):
    out, err = run("create", "rep_a", "--name", "laptop")
    assert out.endswith("\n") and out.count("\n") == 1 and err == ""
    raw = out.strip()
    assert raw.startswith("crm_") and " " not in raw and len(raw) > 40

    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "rep_a"

    token = ApiToken.objects.get(user=rep_a)
    assert token.name == "laptop"
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    # Only the hash (and a short display prefix) is kept: the token itself is nowhere in the row.
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert raw not in stored and not any(raw in v for v in stored)
    assert len(token.prefix) < len(raw) / 3


def test_each_create_is_a_new_token(rep_a):
    first, _ = run("create", "rep_a")
    second, _ = run("create", "rep_a")
    assert first != second and ApiToken.objects.filter(user=rep_a).count() == 2


def test_wrong_or_missing_token_is_refused(rep_a):
    run("create", "rep_a")
    assert Client().get("/api/v1/me", headers={"Authorization": "Bearer crm_not-a-token"}).status_code == 401
    assert Client().get("/api/v1/me").status_code == 401


def test_unknown_or_inactive_user_is_a_command_error(rep_a):
    with pytest.raises(CommandError, match="nobody"):
        run("create", "nobody")
    rep_a.is_active = False
    rep_a.save()
    with pytest.raises(CommandError):
        run("create", "rep_a")
    assert not ApiToken.objects.exists()


def test_revoke_deletes_the_users_tokens(rep_a, rep_b):
    raw = run("create", "rep_a")[0].strip()
    run("create", "rep_b")
    out, err = run("revoke", "rep_a")
    assert out == "" and "1" in err
    assert not ApiToken.objects.filter(user=rep_a).exists() and ApiToken.objects.filter(user=rep_b).exists()
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_create_and_revoke_are_in_the_change_log_without_the_token(rep_a):
    from crm.audit.models import ObjectChange

    raw = run("create", "rep_a", "--name", "ci")[0].strip()
    token = ApiToken.objects.get(user=rep_a)
    run("revoke", "rep_a")
    rows = list(ObjectChange.objects.filter(object_type="api_token", object_id=token.pk).order_by("id"))
    assert [r.action for r in rows] == ["create", "delete"]
    assert all(r.user_id == rep_a.pk for r in rows)
    assert raw not in str([r.changes for r in rows]) and token.key_hash not in str([r.changes for r in rows])
