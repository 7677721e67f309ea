"""The typo path's table of known words (crm/search/words.py): kept current as the index is written, used
only to rewrite a query. A word of a record the reader cannot see, or of an erased person, finds nothing
for them: the results still come from the restricted search. PostgreSQL keeps the table; SQLite none."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from crm.privacy.erasure import erase
from crm.products.models import Product
from crm.products.services.products import product_create
from crm.records.services.contacts import contact_create, contact_delete
from crm.search import index, words
from crm.search.query import search

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="SQLite keeps no words")


def names(user, q, kind="contact"):
    return [str(o) for o in search(user, q).get(kind, [])]


def listed(api, user, q):
    r = api(user).get("/products", {"q": q})
    assert r.status_code == 200, r.content
    return [p["name"] for p in r.json()["items"]]


def known_words():
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT word FROM search_word")
        return {row[0] for row in cur.fetchall()}


@postgres_only
def test_a_new_word_is_corrected_to_right_after_the_record_is_saved(admin_user, api):
    product_create(actor=admin_user, data={"sku": "Q-1", "name": "Quixotic lamp"})
    assert "quixotic" in words.corrections("quixotik")
    assert listed(api, admin_user, "quixotik") == ["Quixotic lamp"]
    assert listed(api, admin_user, "quixotik lamp") == ["Quixotic lamp"]  # each word corrected on its own
    assert listed(api, admin_user, "quixotik zzzzz") == []  # one near word does not stand in for the other


@postgres_only
def test_only_letter_words_longer_than_three_are_kept(admin_user):
    product_create(actor=admin_user, data={"sku": "K-77", "name": "Big Kettle 4000 x2"})
    assert {"kettle"} <= known_words()
    assert not {"big", "4000", "x2", "k", "77"} & known_words()


@postgres_only
def test_bulk_index_writes_add_their_words(admin_user):
    product_create(actor=admin_user, data={"sku": "P-1", "name": "Plain"})
    Product.objects.filter(sku="P-1").update(name="Zeppelin")  # as a bulk writer would, then index it
    index.update_many(Product.objects.filter(sku="P-1"))
    assert "zeppelin" in words.corrections("zepelin")


@postgres_only
def test_a_word_of_a_record_the_reader_cannot_see_finds_nothing(rep_a, rep_b):
    contact_create(actor=rep_b, data={"first_name": "Zebulon", "last_name": "Marsh"})
    assert "zebulon" in words.corrections("zebulonn")  # the shared table knows the word ...
    assert names(rep_a, "zebulonn") == []  # ... but rep_a's search finds nothing with it
    assert names(rep_b, "zebulonn") == ["Zebulon Marsh"]


@postgres_only
def test_an_erased_persons_words_leave_the_table_at_once_and_shared_words_stay(boss, rep_a):
    contact_create(actor=boss, data={"first_name": "Xanthippe", "last_name": "Quell", "email": "xq@example.org"})
    contact_create(actor=rep_a, data={"first_name": "Xanthippa", "last_name": "Stone"})
    contact_create(actor=rep_a, data={"first_name": "Ambrose", "last_name": "Quell"})
    contact_create(actor=boss, data={"first_name": "Perpetua", "last_name": "Quell", "email": "pq@example.org"})
    assert {"xanthippe", "perpetua"} <= known_words()
    erase(actor=boss, email="xq@example.org")
    erase(actor=boss, email="pq@example.org")
    # Personal data does not linger as a query's rewrite: the erased names are gone without a rebuild,
    # a word another record still holds stays.
    assert "xanthippe" not in known_words() and "perpetua" not in known_words()
    assert {"xanthippa", "quell", "ambrose"} <= known_words()
    assert names(boss, "xanthipe") == ["Xanthippa Stone"]
    assert names(boss, "quelll") == ["Ambrose Quell"]
    call_command("search-words", "--rebuild")
    assert "xanthippa" in known_words()
    assert names(rep_a, "xanthipe") == ["Xanthippa Stone"]


@postgres_only
def test_a_rebuild_drops_deleted_records_words_and_keeps_one_row_a_word(rep_a, admin_user):
    keep = contact_create(actor=rep_a, data={"first_name": "Ottoline", "last_name": "Ferrars"}).obj
    contact_create(actor=rep_a, data={"first_name": "Ottoline", "last_name": "Brandon"})
    gone = contact_create(actor=rep_a, data={"first_name": "Wilhelmina", "last_name": "Brandon"}).obj
    contact_delete(gone, actor=admin_user)
    assert "wilhelmina" in known_words()  # a superset until the rebuild
    words.rebuild()
    assert {"ottoline", "ferrars", "brandon"} <= known_words() and "wilhelmina" not in known_words()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) - COUNT(DISTINCT word) FROM search_word")
        assert cur.fetchone()[0] == 0
    assert names(rep_a, "otoline ferars") == [str(keep)]


def test_sqlite_keeps_no_words_and_tolerates_no_typo(admin_user, api):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path")
    product_create(actor=admin_user, data={"sku": "Q-1", "name": "Quixotic lamp"})
    assert "search_word" not in connection.introspection.table_names()
    assert listed(api, admin_user, "quixotik") == []
    with pytest.raises(CommandError, match="Only PostgreSQL"):
        call_command("search-words", "--rebuild")
