"""Visibility: own/team/all scopes, linked activities and tasks, actions per type, ensure_visible."""

import pytest

from crm.access.models import Profile, Role
from crm.access.policy import forget, policy_for
from crm.audit.models import ObjectChange
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.records.models import Activity, Company, Contact, Deal, Lead, Task
from crm.records.services.activities import activity_create, task_create
from crm.records.services.common import get_visible
from crm.records.services.companies import company_create
from crm.records.services.contacts import contact_create, contact_update
from crm.records.services.leads import lead_create
from crm.search.query import search
from tests.factories import ActivityFactory, ContactFactory, DealFactory, LeadFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def visible(model, user, action="view"):
    return set(model.objects.restrict(user, action).values_list("pk", flat=True))


@pytest.fixture
def people(manager, rep_a, rep_b):
    """One contact per owner (and one without an owner)."""
    return {u: ContactFactory(owner=u).pk for u in (manager, rep_a, rep_b, None)}


def test_own_scope_sees_only_own_records(people, rep_a, rep_b):
    assert visible(Contact, rep_a) == {people[rep_a]}
    assert visible(Contact, rep_b) == {people[rep_b]}


def test_team_scope_sees_the_team_members_records(people, manager, rep_a, rep_b):
    assert visible(Contact, manager) == {people[manager], people[rep_a]}
    # The rep's own scope does not reach up to the manager's records.
    assert people[manager] not in visible(Contact, rep_a)


def test_manager_of_a_team_they_are_not_a_member_of_still_sees_it(team, rep_a):
    boss = UserFactory(username="boss2", role="sales-manager")  # no team of their own
    team.manager = boss
    team.save()
    mine = ContactFactory(owner=rep_a)
    assert visible(Contact, boss) == {mine.pk}


def test_all_scope_and_admin_see_everything(people, readonly, support, admin_user):
    everything = set(people.values())
    assert visible(Contact, readonly) == everything
    assert visible(Contact, support) == everything
    assert visible(Contact, admin_user) == everything


def test_superuser_without_profile_sees_everything(people):
    root = UserFactory(username="root", is_superuser=True)
    assert visible(Contact, root) == set(people.values())


def test_user_without_role_or_inactive_sees_nothing(people, rep_a):
    nobody = UserFactory(username="norole")
    assert visible(Contact, nobody) == set()
    rep_a.is_active = False
    rep_a.save()
    forget(rep_a)
    assert visible(Contact, rep_a) == set()
    assert visible(Contact, None) == set()


def test_a_role_without_view_sees_none(rep_a, support):
    LeadFactory(owner=rep_a)
    DealFactory(owner=rep_a)
    assert visible(Lead, support) == set()  # support-agent has no lead permissions at all
    assert visible(Deal, support) != set()
    role = Role.objects.create(name="Writers", slug="writers", scope="all", permissions={"contact": ["add"]})
    writer = UserFactory(username="writer")
    Profile.objects.create(user=writer, role=role)
    ContactFactory(owner=rep_a)
    assert visible(Contact, writer) == set()
    assert visible(Contact, writer, "add") != set()


def test_actions_are_checked_per_type(rep_a, readonly, marketer):
    ContactFactory(owner=rep_a)
    assert visible(Contact, readonly, "change") == set()
    assert visible(Contact, rep_a, "delete") == set()  # reps may not delete contacts
    assert visible(Contact, marketer, "export") != set()
    with pytest.raises(PermissionDenied):
        contact_create(actor=readonly, data={"first_name": "Nope"})
    assert not Contact.objects.filter(first_name="Nope").exists()


def test_role_change_takes_effect_after_forget(rep_a, rep_b):
    theirs = ContactFactory(owner=rep_b)
    assert theirs.pk not in visible(Contact, rep_a)
    Profile.objects.filter(user=rep_a).update(role=Role.objects.get(slug="read-only"))
    forget(rep_a)
    assert theirs.pk in visible(Contact, rep_a)
    assert policy_for(rep_a).allows("contact", "add") is False


# --- activities and tasks: visible through what they are linked to ------------------------


def test_someone_elses_activity_on_my_record_is_visible(rep_a, rep_b):
    mine = ContactFactory(owner=rep_a)
    theirs = ContactFactory(owner=rep_b)
    on_mine = ActivityFactory(owner=rep_b, contact=mine)
    on_theirs = ActivityFactory(owner=rep_b, contact=theirs)
    my_own = ActivityFactory(owner=rep_a)
    assert visible(Activity, rep_a) == {on_mine.pk, my_own.pk}
    assert on_theirs.pk in visible(Activity, rep_b)


@pytest.mark.parametrize("link", ["company", "contact", "lead", "deal"])
def test_tasks_assigned_to_others_are_visible_through_each_link(rep_a, rep_b, link, pipeline):
    record = {
        "company": lambda: Company.objects.create(name="Acme", owner=rep_a),
        "contact": lambda: ContactFactory(owner=rep_a),
        "lead": lambda: LeadFactory(owner=rep_a),
        "deal": lambda: DealFactory(owner=rep_a, pipeline=pipeline),
    }[link]()
    task = TaskFactory(assignee=rep_b, **{link: record})
    unlinked = TaskFactory(assignee=rep_b)
    assert visible(Task, rep_a) == {task.pk}
    assert visible(Task, rep_b) == {task.pk, unlinked.pk}


def test_link_does_not_count_through_a_type_the_role_may_not_view(rep_a, support):
    # A support agent may not view leads, so an activity linked only to a lead stays hidden.
    lead = LeadFactory(owner=rep_a)
    hidden = ActivityFactory(owner=rep_a, lead=lead)
    assert support.profile.role.scope == "all"
    role = Role.objects.create(
        name="Own support",
        slug="own-support",
        scope="own",
        permissions={"contact": ["view"], "activity": ["view"]},
    )
    agent = UserFactory(username="own_agent")
    Profile.objects.create(user=agent, role=role)
    contact = ContactFactory(owner=agent)
    shown = ActivityFactory(owner=rep_a, contact=contact)
    assert visible(Activity, agent) == {shown.pk}
    assert hidden.pk not in visible(Activity, agent)


def test_manager_sees_team_activities_and_the_linked_ones(manager, rep_a, rep_b):
    team_note = ActivityFactory(owner=rep_a)
    outsider_note_on_team_record = ActivityFactory(owner=rep_b, contact=ContactFactory(owner=rep_a))
    outsider_note = ActivityFactory(owner=rep_b)
    assert visible(Activity, manager) == {team_note.pk, outsider_note_on_team_record.pk}
    assert outsider_note.pk not in visible(Activity, manager)


def test_get_visible_hides_existence(rep_a, rep_b):
    theirs = ContactFactory(owner=rep_b)
    with pytest.raises(NotFound):
        get_visible(Contact, rep_a, theirs.pk)
    with pytest.raises(NotFound):
        get_visible(Contact, rep_a, 999_999)
    with pytest.raises(NotFound):
        get_visible(Contact, rep_a, "abc")
    assert get_visible(Contact, rep_b, theirs.pk) == theirs


# --- ensure_visible: no writing a record where you could not see it ------------------------


@pytest.mark.parametrize(
    "create,data,owner_key",
    [
        (contact_create, {"first_name": "Zed"}, "owner_id"),
        (company_create, {"name": "Zedcorp"}, "owner_id"),
        (lead_create, {"last_name": "Zed"}, "owner_id"),
        (task_create, {"title": "Zed call"}, "assignee_id"),
        (activity_create, {"kind": "note", "subject": "Zed note"}, "owner_id"),
    ],
    ids=["contact", "company", "lead", "task", "activity"],
)
def test_rep_cannot_create_a_record_owned_by_another_rep(rep_a, rep_b, create, data, owner_key):
    with pytest.raises(PermissionDenied):
        create(actor=rep_a, data={**data, owner_key: rep_b.pk})
    for model in (Contact, Company, Lead, Task, Activity):
        assert not model.objects.exists()
    assert not ObjectChange.objects.exists()
    assert not any(search(rep_b, "zed").values())


def test_rep_cannot_hand_a_record_to_another_rep(rep_a, rep_b):
    contact = contact_create(actor=rep_a, data={"first_name": "Ann"}).obj
    with pytest.raises(PermissionDenied):
        contact_update(contact, actor=rep_a, data={"owner_id": rep_b.pk, "title": "CTO"})
    contact.refresh_from_db()
    assert (contact.owner, contact.title, contact.version) == (rep_a, "", 1)


def test_manager_may_assign_within_the_team_but_not_outside(manager, rep_a, rep_b):
    contact = contact_create(actor=manager, data={"first_name": "Ann", "owner_id": rep_a.pk}).obj
    assert contact.owner == rep_a
    with pytest.raises(PermissionDenied):
        contact_create(actor=manager, data={"first_name": "Bob", "owner_id": rep_b.pk})
    assert Contact.objects.count() == 1


def test_a_task_for_someone_else_on_my_record_is_allowed(rep_a, rep_b):
    # Visible through its link, so assigning it to a colleague is fine.
    contact = contact_create(actor=rep_a, data={"first_name": "Ann"}).obj
    task = task_create(actor=rep_a, data={"title": "Call Ann", "assignee_id": rep_b.pk, "contact_id": contact.pk}).obj
    assert task.assignee == rep_b and task.created_by == rep_a


def test_cannot_link_to_a_record_one_cannot_see(rep_a, rep_b):
    theirs = ContactFactory(owner=rep_b)
    with pytest.raises(ValidationFailed) as exc:
        activity_create(actor=rep_a, data={"kind": "note", "contact_id": theirs.pk})
    assert list(exc.value.fields) == ["contact_id"]
