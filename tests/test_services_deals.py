"""Deals: stage history, probability, won/lost/reopen, pipeline moves, and events after commit only."""

import pytest

from crm.core import events
from crm.core.errors import Conflict, ValidationFailed
from crm.records.models import Deal, DealStatus, StageChange
from crm.records.services.deals import deal_create, deal_move_stage, deal_update
from tests.factories import PipelineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages(pipeline):
    return {s.name: s for s in pipeline.stages.all()}


@pytest.fixture
def received():
    """Events delivered to a subscriber (delivery happens only when the transaction commits)."""
    seen = []
    events.subscribe(seen.append)
    yield seen
    events.unsubscribe(seen.append)


def new_deal(actor, **data):
    return deal_create(actor=actor, data={"name": "Pilot", "amount": "1000", **data}).obj


def history(deal):
    return [(c.from_stage and c.from_stage.name, c.to_stage.name) for c in deal.stage_changes.all()]


def test_create_puts_the_deal_in_the_first_open_stage_of_the_default_pipeline(rep_a, stages):
    PipelineFactory(name="Other")  # not the default
    deal = new_deal(rep_a)
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage) == (stages["Qualify"].pipeline, stages["Qualify"])
    assert (deal.status, deal.probability, deal.closed_at) == (DealStatus.OPEN, 10, None)
    change = deal.stage_changes.get()
    assert (change.from_stage, change.to_stage, change.changed_by) == (None, stages["Qualify"], rep_a)
    assert change.changed_at is not None and deal.stage_changed_at == change.changed_at


def test_every_move_is_recorded_with_from_to_by_and_at(rep_a, manager, stages):
    deal = new_deal(rep_a)
    deal = deal_move_stage(deal, stages["Proposal"], actor=rep_a).obj
    deal = deal_move_stage(deal, stages["Qualify"], actor=manager).obj
    assert history(deal) == [(None, "Qualify"), ("Qualify", "Proposal"), ("Proposal", "Qualify")]
    last = deal.stage_changes.last()
    assert last.changed_by == manager
    times = [c.changed_at for c in deal.stage_changes.all()]
    assert times == sorted(times)


def test_an_update_that_keeps_the_stage_writes_no_history(rep_a, stages):
    deal = new_deal(rep_a)
    deal_update(deal, actor=rep_a, data={"name": "Renamed", "stage_id": stages["Qualify"].pk})
    deal_move_stage(Deal.objects.get(pk=deal.pk), stages["Qualify"], actor=rep_a)
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_probability_follows_the_stage_unless_overridden(rep_a, stages):
    deal = new_deal(rep_a)
    deal = deal_move_stage(deal, stages["Proposal"], actor=rep_a).obj
    assert deal.probability == 50

    deal = deal_update(deal, actor=rep_a, data={"probability": 35}).obj
    assert (deal.probability, deal.probability_overridden) == (35, True)
    deal = deal_move_stage(deal, stages["Qualify"], actor=rep_a).obj
    assert deal.probability == 35  # the override survives a move

    deal = deal_update(deal, actor=rep_a, data={"probability": None}).obj
    assert (deal.probability, deal.probability_overridden) == (10, False)  # back to the stage's


def test_probability_given_on_create_is_an_override(rep_a, stages):
    deal = new_deal(rep_a, probability=70)
    assert (deal.probability, deal.probability_overridden) == (70, True)


def test_won_sets_status_probability_and_closed_at(rep_a, stages):
    deal = new_deal(rep_a, probability=40)  # even an override gives way to a win
    deal = deal_move_stage(deal, stages["Won"], actor=rep_a).obj
    deal.refresh_from_db()
    assert (deal.status, deal.probability) == (DealStatus.WON, 100)
    assert deal.closed_at is not None


def test_lost_requires_a_reason(rep_a, stages):
    deal = new_deal(rep_a)
    with pytest.raises(ValidationFailed) as exc:
        deal_move_stage(deal, stages["Lost"], actor=rep_a)
    assert list(exc.value.fields) == ["lost_reason"]
    with pytest.raises(ValidationFailed):
        deal_move_stage(deal, stages["Lost"], actor=rep_a, lost_reason="")
    deal.refresh_from_db()
    assert (deal.stage, deal.status, deal.version) == (stages["Qualify"], DealStatus.OPEN, 1)
    assert deal.stage_changes.count() == 1

    deal = deal_move_stage(deal, stages["Lost"], actor=rep_a, lost_reason="Too expensive").obj
    deal.refresh_from_db()
    assert (deal.status, deal.probability, deal.lost_reason) == (DealStatus.LOST, 0, "Too expensive")
    assert deal.closed_at is not None


def test_a_lost_deal_cannot_drop_its_reason(rep_a, stages):
    deal = new_deal(rep_a)
    deal = deal_move_stage(deal, stages["Lost"], actor=rep_a, lost_reason="Budget").obj
    with pytest.raises(ValidationFailed):
        deal_update(deal, actor=rep_a, data={"lost_reason": ""})
    deal.refresh_from_db()
    assert deal.lost_reason == "Budget"


def test_moving_back_to_an_open_stage_reopens(rep_a, stages):
    deal = new_deal(rep_a)
    deal = deal_move_stage(deal, stages["Lost"], actor=rep_a, lost_reason="Budget").obj
    deal = deal_move_stage(deal, stages["Proposal"], actor=rep_a).obj
    deal.refresh_from_db()
    assert (deal.status, deal.closed_at, deal.probability, deal.lost_reason) == (DealStatus.OPEN, None, 50, "")

    deal = deal_move_stage(deal, stages["Won"], actor=rep_a).obj
    deal = deal_move_stage(deal, stages["Qualify"], actor=rep_a).obj
    assert (deal.status, deal.closed_at, deal.probability) == (DealStatus.OPEN, None, 10)


def test_a_deal_created_in_a_won_stage_is_closed(rep_a, stages):
    deal = new_deal(rep_a, stage_id=stages["Won"].pk)
    assert (deal.status, deal.probability) == (DealStatus.WON, 100) and deal.closed_at is not None


def test_a_stage_of_another_pipeline_moves_the_deal_there(rep_a, stages):
    other = PipelineFactory(name="Renewals", stages=[("Contacted", 20, False, False), ("Signed", 100, True, False)])
    target = other.stages.get(name="Contacted")
    deal = new_deal(rep_a)
    deal = deal_move_stage(deal, target, actor=rep_a).obj
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage, deal.probability) == (other, target, 20)
    assert history(deal)[-1] == ("Qualify", "Contacted")
    assert Deal.objects.filter(pipeline=other, stage__pipeline=other).count() == 1


def test_changing_pipeline_alone_picks_its_first_open_stage(rep_a, stages):
    other = PipelineFactory(name="Renewals", stages=[("Won early", 100, True, False), ("Talk", 30, False, False)])
    deal = deal_update(new_deal(rep_a), actor=rep_a, data={"pipeline_id": other.pk}).obj
    assert (deal.pipeline, deal.stage.name, deal.probability) == (other, "Talk", 30)


def test_a_stage_outside_the_given_pipeline_is_refused(rep_a, stages):
    other = PipelineFactory(name="Renewals")
    deal = new_deal(rep_a)
    with pytest.raises(ValidationFailed) as exc:
        deal_update(deal, actor=rep_a, data={"pipeline_id": other.pk, "stage_id": stages["Proposal"].pk})
    assert list(exc.value.fields) == ["stage_id"]
    deal.refresh_from_db()
    assert (deal.pipeline, deal.stage) == (stages["Qualify"].pipeline, stages["Qualify"])


@pytest.mark.parametrize(
    "data,field",
    [
        ({"stage_id": 999_999}, "stage_id"),
        ({"stage_id": "abc"}, "stage_id"),
        ({"pipeline_id": 999_999}, "pipeline_id"),
        ({"pipeline_id": "x"}, "pipeline_id"),
    ],
)
def test_unknown_or_malformed_stage_and_pipeline_are_field_errors(rep_a, stages, data, field):
    with pytest.raises(ValidationFailed) as exc:
        new_deal(rep_a, **data)
    assert list(exc.value.fields) == [field]
    assert not Deal.objects.exists()


def test_stale_version_on_a_move_is_a_conflict(rep_a, stages):
    deal = new_deal(rep_a)
    deal_move_stage(deal, stages["Proposal"], actor=rep_a, version=1)
    with pytest.raises(Conflict):
        deal_move_stage(deal, stages["Won"], actor=rep_a, version=1)
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (stages["Proposal"], 2)


# --- events ----------------------------------------------------------------------------------


def test_stage_events_are_emitted_only_after_commit(rep_a, stages, received, django_capture_on_commit_callbacks):
    deal = new_deal(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        deal_move_stage(deal, stages["Won"], actor=rep_a)
        assert received == []  # nothing is delivered while the transaction is open
    won = [(e.type, e.object_id, e.actor_id) for e in received if e.type.startswith("deal.")]
    assert won == [("deal.stage_changed", deal.pk, rep_a.pk), ("deal.won", deal.pk, rep_a.pk)]
    moved = next(e for e in received if e.type == "deal.won")
    assert moved.changes == {"stage_id": [stages["Qualify"].pk, stages["Won"].pk]}
    assert moved.object_type == "deal"


def test_lost_event(rep_a, stages, received, django_capture_on_commit_callbacks):
    deal = new_deal(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        deal_move_stage(deal, stages["Lost"], actor=rep_a, lost_reason="Budget")
    assert [e.type for e in received if e.type.startswith("deal.")] == ["deal.stage_changed", "deal.lost"]


def test_open_move_emits_only_stage_changed(rep_a, stages, received, django_capture_on_commit_callbacks):
    deal = new_deal(rep_a)
    with django_capture_on_commit_callbacks(execute=True):
        deal_move_stage(deal, stages["Proposal"], actor=rep_a)
    assert [e.type for e in received] == ["deal.stage_changed", "record.updated"]


def test_no_events_when_the_transaction_rolls_back(rep_a, stages, received, django_capture_on_commit_callbacks):
    deal = new_deal(rep_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValidationFailed):
            deal_move_stage(deal, stages["Lost"], actor=rep_a)  # no reason: rolled back
        with pytest.raises(Conflict):
            deal_move_stage(deal, stages["Won"], actor=rep_a, version=7)
    assert callbacks == [] and received == []
    assert deal.stage_changes.count() == 1


def test_a_failing_subscriber_does_not_undo_the_move(rep_a, stages, received, django_capture_on_commit_callbacks):
    def broken(event):
        raise RuntimeError("subscriber bug")

    events.subscribe(broken)
    try:
        deal = new_deal(rep_a)
        with django_capture_on_commit_callbacks(execute=True):
            deal_move_stage(deal, stages["Won"], actor=rep_a)
    finally:
        events.unsubscribe(broken)
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON
    assert "deal.won" in [e.type for e in received]  # the other subscriber still got it


@pytest.mark.parametrize("close", ["Won", "Lost"])
def test_a_reopened_deal_does_not_keep_the_probability_of_its_close(rep_a, stages, close):
    deal = new_deal(rep_a, probability=35)  # overridden while open
    deal = deal_move_stage(deal, stages[close], actor=rep_a, lost_reason="Budget").obj
    deal = deal_move_stage(deal, stages["Proposal"], actor=rep_a).obj
    # The close replaced the override (100 or 0), so the reopened deal follows its stage again.
    assert (deal.status, deal.probability, deal.probability_overridden) == (DealStatus.OPEN, 50, False)


def test_a_closed_deal_keeps_the_probability_of_its_outcome(rep_a, stages):
    won = new_deal(rep_a, stage_id=stages["Won"].pk, probability=40)
    assert (won.probability, won.probability_overridden) == (100, False)
    won = deal_update(won, actor=rep_a, data={"probability": 30}).obj
    assert won.probability == 100
    # Reopening with a probability in the same update keeps it as an override.
    reopened = deal_update(won, actor=rep_a, data={"stage_id": stages["Proposal"].pk, "probability": 30}).obj
    assert (reopened.probability, reopened.probability_overridden) == (30, True)
    lost = deal_update(reopened, actor=rep_a, data={"stage_id": stages["Lost"].pk, "lost_reason": "x"}).obj
    assert (lost.probability, lost.probability_overridden) == (0, False)
