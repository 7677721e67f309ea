"""The keyboard shortcuts' dialog: the server renders the targets keys.js follows, so a shortcut goes
only where the user may go ("g" + letter for types they may see, "n" where they may add, "e" where
they may change the record)."""

import re

from crm.access.models import Profile, Role
from crm.records.services import companies
from tests.factories import UserFactory


def targets(html: str) -> dict[str, str]:
    dialog = html.split('id="shortcuts"', 1)[1]
    found = dict(re.findall(r'href="([^"]+)" data-goto="(\w)"', dialog))
    links = {letter: href for href, letter in found.items()}
    links |= {name: href for href, name in re.findall(r'href="([^"]+)" data-shortcut="(\w+)"', dialog)}
    return links


def test_goto_links_and_new_on_a_list(web, rep_a):
    html = web(rep_a).get("/companies/").content.decode()
    assert '<dialog id="shortcuts"' in html and "/static/web/keys.js" in html
    t = targets(html)
    assert t["c"] == "/companies/" and t["o"] == "/contacts/" and t["d"] == "/deals/"
    assert t["l"] == "/leads/" and t["t"] == "/tasks/"
    assert t["new"] == "/companies/new/" and "edit" not in t


def test_edit_and_new_on_a_record_page(web, rep_a, rep_b):
    mine = companies.company_create(actor=rep_a, data={"name": "Mine"}).obj
    t = targets(web(rep_a).get(f"/companies/{mine.pk}/").content.decode())
    assert t["edit"] == f"/companies/{mine.pk}/edit/" and t["new"] == "/companies/new/"


def test_read_only_user_gets_no_new_or_edit(web, readonly, admin_user):
    obj = companies.company_create(actor=admin_user, data={"name": "Theirs"}).obj
    for path in ("/companies/", f"/companies/{obj.pk}/"):
        t = targets(web(readonly).get(path).content.decode())
        assert "new" not in t and "edit" not in t and t["c"] == "/companies/"


def test_types_the_role_cannot_see_have_no_goto(web, db):
    role = Role.objects.create(
        slug="contacts-only", name="Contacts only", scope="all", permissions={"contact": ["view"]}
    )
    user = UserFactory(username="narrow")
    Profile.objects.update_or_create(user=user, defaults={"role": role})
    t = targets(web(user).get("/contacts/").content.decode())
    assert t == {"o": "/contacts/"}


def test_board_offers_a_new_deal(web, rep_a, pipeline):
    assert targets(web(rep_a).get("/board/").content.decode())["new"] == "/deals/new/"


def test_signed_out_pages_have_no_dialog(web):
    assert 'id="shortcuts"' not in web(None).get("/login/").content.decode()
