"""No leakage: a closed deal's features are what was known at its instant. An amount changed after the
close, activities that happened after it, one back-dated but recorded after it, and a later stage are
not seen; the same deal read at a later instant sees them."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core import clock
from crm.predict import features
from crm.records.models import Deal
from crm.records.services.activities import activity_create
from crm.records.services.deals import deal_create, deal_move_stage, deal_update

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def call(actor, deal, when, recorded=None):
    with clock.at(recorded or when):
        activity_create(actor=actor, data={"kind": "call", "occurred_at": when, "deal_id": deal.pk, "subject": "c"})


@pytest.mark.django_db
def test_features_see_only_what_was_known_then(admin_user, pipeline):
    qualify, proposal, won = (pipeline.stages.get(name=n) for n in ("Qualify", "Proposal", "Won"))
    with clock.at(day(0)):
        deal = deal_create(actor=admin_user, data={"name": "D", "amount": Decimal(1000), "stage_id": qualify.pk}).obj
    call(admin_user, deal, day(2))
    call(admin_user, deal, day(4))
    with clock.at(day(10)):
        deal_move_stage(Deal.objects.get(pk=deal.pk), proposal, actor=admin_user)
    with clock.at(day(20)):
        deal_move_stage(Deal.objects.get(pk=deal.pk), won, actor=admin_user)
    # After the close: a bigger amount, a call, and a call back-dated to day 3 but recorded on day 25.
    with clock.at(day(22)):
        deal_update(Deal.objects.get(pk=deal.pk), actor=admin_user, data={"amount": Decimal(50000)})
    call(admin_user, deal, day(23))
    call(admin_user, deal, day(3), recorded=day(25))

    then = features.extract({deal.pk: day(5)})[deal.pk]
    assert then["amount"] == 1000.0
    assert then["call"] == 2
    assert then["stage"] == "Qualify" and then["stage_probability"] == qualify.probability
    assert then["days_in_stage"] == 5 and then["age_days"] == 5
    assert then["days_since_touch"] == 1  # the day-4 call; not the day-3 one recorded on day 25
    assert then["stage_moves"] == 1 and then["moves_back"] == 0

    later = features.extract({deal.pk: day(30)})[deal.pk]
    assert later["amount"] == 50000.0
    assert later["call"] == 4
    assert later["stage"] == "Won"


@pytest.mark.django_db
def test_owner_win_rate_counts_only_earlier_closes(admin_user, rep_a, pipeline):
    won, lost = pipeline.stages.get(name="Won"), pipeline.stages.get(name="Lost")
    deals = []
    for n, stage in enumerate([won, won, lost]):
        with clock.at(day(n)):
            d = deal_create(actor=admin_user, data={"name": f"D{n}", "amount": Decimal(10), "owner_id": rep_a.pk}).obj
        with clock.at(day(10 + n)):
            deal_move_stage(Deal.objects.get(pk=d.pk), stage, actor=admin_user, lost_reason="price")
        deals.append(d)
    facts = features.extract({deals[2].pk: day(11) + dt.timedelta(hours=1), deals[0].pk: day(5)})
    assert (facts[deals[2].pk]["owner_wins"], facts[deals[2].pk]["owner_closed"]) == (2, 2)
    assert (facts[deals[0].pk]["owner_wins"], facts[deals[0].pk]["owner_closed"]) == (0, 0)
