"""Global search (grouped results as you type) and the record picker."""

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_header_search_groups_results_by_type(web, rep_a, acme, ada, big_deal):
    r = web(rep_a).get("/search/", {"q": "acme"}, **HTMX)
    page = r.content.decode()
    assert r.status_code == 200
    assert "Companies" in page and "Contacts" in page and "Deals" in page
    assert f'href="/companies/{acme.pk}/"' in page and f'href="/contacts/{ada.pk}/"' in page
    assert "<html" not in page  # a fragment for the dropdown


def test_full_search_page(web, rep_a, ada):
    r = web(rep_a).get("/search/", {"q": "lovelace"})
    assert r.status_code == 200 and "Ada Lovelace" in r.content.decode() and "<html" in r.content.decode()


def test_search_never_shows_hidden_records(web, rep_b, acme, ada):
    page = web(rep_b).get("/search/", {"q": "acme"}, **HTMX).content.decode()
    assert "Acme Corp" not in page and "Nothing found" in page


def test_picker_options(web, rep_a, rep_b, acme):
    page = web(rep_a).get("/pick/company/", {"q": "acm"}).content.decode()
    assert f'data-pick-id="{acme.pk}"' in page
    assert "data-pick-id" not in web(rep_b).get("/pick/company/", {"q": "acm"}).content.decode()
    assert web(rep_a).get("/pick/nonsense/", {"q": "x"}).status_code == 404


def test_search_box_has_the_slash_shortcut_and_a_label(web, rep_a):
    page = web(rep_a).get("/").content.decode()
    assert 'aria-keyshortcuts="/"' in page and '<label for="global-search"' in page
