"""A record page's related sections offer "+ Add" only to a role that may add that type (the walk of
issue #20 found a read-only user offered "+ Add" on a company's contacts and deals, then refused)."""

import pytest

pytestmark = pytest.mark.django_db


def test_add_is_offered_by_role(web, rep_a, readonly, acme):
    assert 'aria-label="Add to deals"' in web(rep_a).get(f"/companies/{acme.pk}/").content.decode()
    page = web(readonly).get(f"/companies/{acme.pk}/").content.decode()
    assert "<h2>Deals</h2>" in page
    assert 'aria-label="Add to deals"' not in page and 'aria-label="Add to contacts"' not in page
    assert web(readonly).get("/deals/new/").status_code == 403  # what the link led to
