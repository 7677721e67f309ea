"""Login, logout, password change and session security."""

import os
import subprocess
import sys

import pytest
from django.test import Client

PAGES = ["/", "/companies/", "/contacts/", "/leads/", "/deals/", "/tasks/", "/board/", "/search/?q=x", "/password/"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_users_are_sent_to_login(db, path):
    r = Client().get(path)
    assert r.status_code == 302
    assert r["Location"].startswith("/login/?next=")


def test_login_page_has_labelled_fields(db):
    r = Client().get("/login/")
    html = r.content.decode()
    assert r.status_code == 200
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_login_with_wrong_password_shows_an_error(rep_a):
    r = Client().post("/login/", {"username": "rep_a", "password": "nope"})
    assert r.status_code == 200
    assert "Please enter a correct username and password" in r.content.decode()


def test_login_then_logout(rep_a):
    client = Client()
    r = client.post("/login/", {"username": "rep_a", "password": "pw"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_login_requires_a_csrf_token(rep_a):
    client = Client(enforce_csrf_checks=True)
    r = client.post("/login/", {"username": "rep_a", "password": "pw"})
    assert r.status_code == 403


def test_password_change_validates_then_changes(rep_a, web):
    client = web(rep_a)
    r = client.post("/password/", {"old_password": "wrong", "new_password1": "x", "new_password2": "y"})
    assert r.status_code == 200
    assert "Your old password was entered incorrectly" in r.content.decode()
    new = "a-Long-new-pass-42"
    r = client.post("/password/", {"old_password": "pw", "new_password1": new, "new_password2": new})
    assert r.status_code == 302 and r["Location"] == "/password/done/"
    rep_a.refresh_from_db()
    assert rep_a.check_password(new)


@pytest.mark.skipif("SECURE_COOKIES" in os.environ, reason="SECURE_COOKIES overrides the default")
def test_login_cookie_is_secure_and_http_only_when_not_debug(rep_a):
    r = Client().post("/login/", {"username": "rep_a", "password": "pw"})
    cookie = r.cookies["__Host-sessionid"]  # Secure cookies carry the __Host- prefix (ASVS 3.3.3)
    assert cookie["secure"] is True and cookie["httponly"] is True
    assert cookie["path"] == "/" and not cookie["domain"]
    csrf = Client().get("/login/").cookies["__Host-csrftoken"]
    assert csrf["secure"] is True and csrf["path"] == "/" and not csrf["domain"]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SECURE_COOKIES": "0"}, ("sessionid", "csrftoken", False)),
        ({"SECURE_COOKIES": "1", "DEBUG": "1"}, ("__Host-sessionid", "__Host-csrftoken", True)),
        ({"DEBUG": "1"}, ("sessionid", "csrftoken", False)),
    ],
)
def test_cookie_names_follow_secure_cookies(env, names):
    """Plain HTTP (`make run`: SECURE_COOKIES=0) keeps plain names: browsers refuse __Host- ones there."""
    code = "from crm import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE)"
    clean = {k: v for k, v in os.environ.items() if k not in ("SECURE_COOKIES", "DEBUG")}
    out = subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [names[0], names[1], str(names[2])]


def test_admin_link_only_for_staff(rep_a, admin_user, web):
    assert "/admin/" not in web(rep_a).get("/").content.decode()
    admin_user.is_staff = True
    admin_user.save()
    assert 'href="/admin/"' in web(admin_user).get("/").content.decode()
