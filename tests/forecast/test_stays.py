"""The stays table (crm/forecast/stays.py) stays true to the stage history: after creations, moves,
closes, reopens, an import, a lead conversion, a company merge and a deletion, it equals the pairing of
every move with the deal's next one (``stays.differences()`` is empty), and a deal's stays are exactly
its intervals. Moves written in bulk send no signal: the check finds them and ``rebuild`` mends them."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.core import clock
from crm.dataio import importing
from crm.dataio.merge import company_merge
from crm.forecast import staycounts, stays
from crm.forecast.models import Stay
from crm.records.models import Deal, StageChange
from crm.records.services.conversion import lead_convert
from crm.records.services.deals import deal_create, deal_delete, deal_move_stage, deal_update
from tests.factories import CompanyFactory, DealFactory, LeadFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def intervals(deal) -> list[tuple]:
    return list(
        Stay.objects.filter(deal=deal)
        .order_by("entered_at", "change_id")
        .values_list("stage__name", "entered_at", "left_at")
    )


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


def test_creation_moves_close_and_reopen_keep_the_intervals(manager, stages):
    with clock.at(at(0)):
        deal = deal_create(
            actor=manager, data={"name": "Pilot", "amount": "1000", "stage_id": stages["Qualify"].pk}
        ).obj
    assert intervals(deal) == [("Qualify", at(0), None)]
    with clock.at(at(3)):
        deal = deal_move_stage(deal, stages["Proposal"], actor=manager).obj
    with clock.at(at(10)):
        deal = deal_update(deal, actor=manager, data={"stage_id": stages["Won"].pk}).obj  # closed
    with clock.at(at(12)):
        deal = deal_move_stage(deal, stages["Proposal"], actor=manager).obj  # reopened
    with clock.at(at(12)):  # the same instant: paired in the order of the moves' ids, as LEAD() does
        deal = deal_move_stage(deal, stages["Lost"], actor=manager, lost_reason="Price").obj
    with clock.at(at(13)):
        deal_update(deal, actor=manager, data={"amount": "2000"})  # no move: the stays are unchanged
    assert intervals(deal) == [
        ("Qualify", at(0), at(3)),
        ("Proposal", at(3), at(10)),
        ("Won", at(10), at(12)),
        ("Proposal", at(12), at(12)),
        ("Lost", at(12), None),
    ]
    assert stays.differences() == [] and staycounts.differences() == []


def test_a_move_written_at_an_earlier_moment_pairs_in_time_order(manager, stages):
    deal = DealFactory(stage=stages["Proposal"], pipeline=stages["Proposal"].pipeline)
    StageChange.objects.create(deal=deal, to_stage=stages["Proposal"], changed_at=at(5))
    StageChange.objects.create(deal=deal, to_stage=stages["Qualify"], changed_at=at(1))  # written later, happened first
    assert intervals(deal) == [("Qualify", at(1), at(5)), ("Proposal", at(5), None)]
    assert stays.differences() == [] and staycounts.differences() == []


@pytest.mark.usefixtures("foreign_currencies")
def test_import_conversion_merge_and_deletion(manager, stages):
    csv = "Deal Name,Amount,Deal Stage,Close Date\nBig one,100,Proposal,2026-12-31\nWon one,50,won,2026-12-31\n"
    batch = importing.run(io.BytesIO(csv.encode()), actor=manager, object_type="deals")
    assert batch.counts["create"] == 2
    lead_convert(LeadFactory(owner=manager), actor=manager, deal={"name": "From a lead", "amount": "10"})
    a, b = CompanyFactory(name="Acme", owner=manager), CompanyFactory(name="ACME Inc", owner=manager)
    moved = deal_create(actor=manager, data={"name": "Theirs", "amount": "5", "company_id": b.pk}).obj
    deal_move_stage(moved, stages["Proposal"], actor=manager)
    company_merge(a, b, actor=manager)
    assert Deal.objects.get(pk=moved.pk).company_id == a.pk
    assert Stay.objects.count() == StageChange.objects.count() == 5
    assert stays.differences() == [] and staycounts.differences() == []
    deal_delete(Deal.objects.get(name="Big one"), actor=manager)
    assert Stay.objects.count() == StageChange.objects.count() == 4
    assert stays.differences() == [] and staycounts.differences() == []


def test_moves_written_in_bulk_are_found_by_the_check_and_mended_by_rebuild(manager, stages):
    deal = deal_create(actor=manager, data={"name": "Pilot", "amount": "1"}).obj
    StageChange.objects.bulk_create([StageChange(deal=deal, to_stage=stages["Proposal"], changed_at=at(400))])
    found = stays.differences()
    assert len(found) == 2  # the first stay was not ended, the new move has none
    assert found[0]["expected"] != found[0]["kept"] and found[1]["kept"] is None
    with pytest.raises(CommandError, match="2 stays differ"):
        call_command("forecast-stays", "--check")
    call_command("forecast-stays", "--rebuild")
    assert stays.differences() == [] and staycounts.differences() == []
    call_command("forecast-stays", "--check")
