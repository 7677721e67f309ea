"""Two first single sign-ons of one new person at once (crm/access/sso.py `_first_user`): the second one
finds no identity either, then meets the first one's user; it signs in as that user, and nothing is
written twice. The interleaving is made deterministic: the other sign-in runs, and commits its user,
right after this one looked for an identity and before it creates one."""

import pytest

from crm.access import sso
from crm.access.models import SsoIdentity

pytestmark = pytest.mark.django_db
ISSUER = "https://id.example.test"
CLAIMS = {"sub": "s-42", "email": "new.person@example.test", "preferred_username": "newperson"}


@pytest.fixture
def jit(settings):
    settings.OIDC_CREATE_USERS = True
    settings.OIDC_DEFAULT_ROLE = "sales-rep"
    settings.OIDC_GROUP_ROLES = {}
    return settings


def test_the_loser_of_two_simultaneous_first_sign_ins_gets_the_winners_user(jit, monkeypatch, django_user_model):
    made = {}
    real = sso.new_user_data

    def other_sign_in_first(issuer, claims):
        data = real(issuer, claims)  # this sign-in chose its username: the other one takes it first
        monkeypatch.setattr(sso, "new_user_data", real)
        made["user"] = sso.sign_in(issuer, dict(claims))
        return data

    monkeypatch.setattr(sso, "new_user_data", other_sign_in_first)
    user = sso.sign_in(ISSUER, dict(CLAIMS))
    assert user.pk == made["user"].pk and user.username == "newperson"
    assert django_user_model.objects.filter(email="new.person@example.test").count() == 1
    assert SsoIdentity.objects.filter(issuer=ISSUER, subject="s-42").count() == 1


def test_a_refused_new_user_still_fails_when_nobody_else_made_it(jit, monkeypatch):
    monkeypatch.setattr(sso, "new_user_data", lambda issuer, claims: {"username": "bad name!", "email": "x"})
    with pytest.raises(sso.SsoRefused, match="valid user"):
        sso.sign_in(ISSUER, dict(CLAIMS))
    assert not SsoIdentity.objects.exists()
