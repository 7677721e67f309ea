"""Settings → Quotes (/settings/quotes/): admins and managers choose per pipeline whether accepting a
quote wins its deal; through acceptance.pipeline_settings_set, logged; everyone else is refused."""

import pytest

from crm.audit.models import ObjectChange
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.quotes.models import Quote, QuoteSettings
from crm.quotes.services import acceptance, lifecycle
from tests.factories import PipelineFactory

pytestmark = pytest.mark.django_db


def test_a_manager_ticks_and_unticks_pipelines(web, manager, pipeline):
    other = PipelineFactory(name="Renewals")
    client = web(manager)
    html = client.get("/settings/quotes/").content.decode()
    assert "Sales" in html and "Renewals" in html and 'href="/settings/quotes/"' in html  # the menu's link too
    response = client.post("/settings/quotes/", {"win": [str(pipeline.pk)]})
    assert response.status_code == 302
    assert QuoteSettings.objects.get(pipeline=pipeline).win_deal_on_accept is True
    assert not QuoteSettings.objects.filter(pipeline=other).exists()  # untouched: no row, no log
    assert "checked" in client.get("/settings/quotes/").content.decode()
    client.post("/settings/quotes/", {})
    assert QuoteSettings.objects.get(pipeline=pipeline).win_deal_on_accept is False
    assert ObjectChange.objects.filter(object_type="quote_settings").count() == 2  # create, update


def test_admins_too_and_no_one_else(web, admin_user, rep_a, readonly, pipeline):
    assert web(admin_user).get("/settings/quotes/").status_code == 200
    for user in (rep_a, readonly):
        assert web(user).get("/settings/quotes/").status_code == 403
        assert web(user).post("/settings/quotes/", {"win": [str(pipeline.pk)]}).status_code == 403
        assert 'href="/settings/quotes/"' not in web(user).get("/").content.decode()
    assert not QuoteSettings.objects.exists()
    assert web(None).get("/settings/quotes/").status_code == 302  # to the login page
    with pytest.raises(PermissionDenied):
        acceptance.pipeline_settings_set(pipeline, actor=rep_a, win_deal_on_accept=True)
    with pytest.raises(ValidationFailed):
        acceptance.pipeline_settings_set(pipeline, actor=admin_user, win_deal_on_accept="yes")


def test_the_setting_decides_whether_acceptance_wins_the_deal(web, manager, rep_a, make_quote, deal):
    web(manager).post("/settings/quotes/", {"win": [str(deal.pipeline_id)]})
    quote = make_quote()
    lifecycle.quote_send(quote, actor=rep_a)
    acceptance.quote_accept(Quote.objects.get(pk=quote.pk), actor=rep_a, name="Ann")
    deal.refresh_from_db()
    assert deal.stage.is_won
