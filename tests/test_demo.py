"""`crm demo`: a consistent, repeatable demo organization, made in one go or not at all."""

import io
from decimal import Decimal

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, get_hasher
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from crm.access.builtin_roles import BUILTIN_ROLES
from crm.access.models import Profile, Role, Team
from crm.audit import changelog
from crm.audit.models import Action, ObjectChange
from crm.customization.validation import clean_custom_fields
from crm.demo import setup
from crm.invoices.models import Invoice, InvoiceStatus
from crm.records.models import (
    Activity,
    Company,
    CompanyDomain,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    DealStatus,
    Lead,
    LeadStatus,
    Pipeline,
    StageChange,
    Task,
    TaskStatus,
)
from crm.search.query import search

SMALL = {"companies": 20, "contacts": 60, "deals": 30}
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as conftest sets for every test


def run_demo(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """One small demo shared by the read-only tests of a class, rolled back when the class is done
    (each test still runs in its own savepoint)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS), transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


class TestDemoOrganization:
    """Checks on one shared demo organization (20 companies, 60 contacts, 30 deals)."""

    def test_some_companies_have_invoices_paid_partly_paid_and_overdue(self, db, demo):
        """crm/demo/invoices.py: through the invoice service, balances following the payments."""
        today = timezone.localdate()
        invoices = list(Invoice.objects.prefetch_related("payments"))
        assert 0 < len({i.company_id for i in invoices}) < Company.objects.count()
        for invoice in invoices:
            paid = sum((p.amount for p in invoice.payments.all()), Decimal(0))
            assert (invoice.paid_total, invoice.balance) == (paid, invoice.amount - paid)
            assert invoice.issue_date <= today and invoice.due_date > invoice.issue_date
        statuses = {i.status for i in invoices}
        assert {InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OPEN} <= statuses
        overdue = [i for i in invoices if i.balance > 0 and i.due_date < today]
        assert any(i.paid_total == 0 for i in overdue) and any(i.paid_total > 0 for i in overdue)
        logged = ObjectChange.objects.filter(object_type="invoice", action=Action.CREATE, source="demo")
        assert logged.count() == len(invoices)

    def test_counts_match_the_options(self, db, demo):
        assert Company.objects.count() == 20
        assert Contact.objects.count() == 60
        assert Deal.objects.count() == 30
        assert Lead.objects.count() == 9  # 15% of the contacts
        assert Activity.objects.count() == 180  # 3 per contact
        assert Task.objects.count() == 24  # 40% of the contacts
        assert "companies" in demo and "60" in demo

    @pytest.mark.skipif(not apps.is_installed("crm.automation"), reason="the automation app is not installed")
    def test_the_automation_examples_are_installed(self, db, demo):
        from crm.automation.models import Rule

        assert Rule.objects.count() == 3

    def test_every_role_has_a_user_who_can_log_in(self, db, demo):
        slugs = set(Profile.objects.values_list("role__slug", flat=True))
        assert slugs == {r["slug"] for r in BUILTIN_ROLES}
        for spec in setup.USERS:
            # The sign-in throttle (django-axes) counts per request, so authenticate() needs one.
            creds = {"username": spec.username, "password": setup.password_for(spec.username)}
            assert Client().login(request=RequestFactory().post("/login/"), **creds), spec.username
            assert spec.username in demo and setup.password_for(spec.username) in demo
        admin = get_user_model().objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        assert not get_user_model().objects.get(username="rep1").is_staff
        teams = {t.name: t.manager.username for t in Team.objects.select_related("manager")}
        assert teams == {"East": "manager", "West": "manager2"}

    def test_pipelines_and_stage_histories_are_consistent(self, db, demo):
        sales = Pipeline.objects.get(name="Sales")
        assert sales.is_default
        assert list(sales.stages.values_list("name", "probability")) == [
            (n, p) for n, p, _, _ in setup.PIPELINES["Sales"]
        ]
        assert Pipeline.objects.filter(name="Renewals").exists()
        now = timezone.now()
        for deal in Deal.objects.select_related("stage").prefetch_related("stage_changes__to_stage"):
            changes = list(deal.stage_changes.all())
            assert changes[0].from_stage_id is None
            for before, after in zip(changes, changes[1:], strict=False):
                assert after.from_stage_id == before.to_stage_id
                assert before.changed_at < after.changed_at
                assert after.to_stage.order > before.to_stage.order  # forward moves only
            assert changes[-1].to_stage_id == deal.stage_id
            assert changes[-1].changed_at == deal.stage_changed_at <= now
            assert deal.pipeline_id == deal.stage.pipeline_id
            assert deal.status == deal.stage.status
            if deal.status == DealStatus.OPEN:
                assert deal.closed_at is None and deal.probability == deal.stage.probability and not deal.lost_reason
            else:
                assert deal.closed_at == changes[-1].changed_at
                assert deal.probability == (100 if deal.status == DealStatus.WON else 0)
                assert bool(deal.lost_reason) == (deal.status == DealStatus.LOST)

    def test_the_history_spreads_over_the_past_year_through_the_services(self, db, demo):
        """The services stamp the demo's drawn times (crm/core/clock.py): deals were created, moved and
        closed over the months, tasks finished then, and the change log says when."""
        now = timezone.now()
        closed = list(Deal.objects.exclude(closed_at=None).values_list("closed_at", flat=True))
        assert closed and max(closed) <= now and (max(closed) - min(closed)).days > 60
        for deal in Deal.objects.prefetch_related("stage_changes"):
            first = min(c.changed_at for c in deal.stage_changes.all())
            created = ObjectChange.objects.get(object_type="deal", object_id=deal.pk, action=Action.CREATE)
            assert deal.created_at == first == created.time
        done = Task.objects.exclude(completed_at=None)
        assert done.exists() and all(t.completed_at == t.created_at < now for t in done)
        for activity in Activity.objects.all():  # logged when it happened (a bulk chunk: its first)
            assert activity.created_at <= activity.occurred_at <= now
        assert len(set(Contact.objects.values_list("created_at", flat=True))) > 1

    def test_contacts_have_one_primary_email_and_phone_copied_on_the_contact(self, db, demo):
        for contact in Contact.objects.prefetch_related("emails", "phones"):
            emails, phones = list(contact.emails.all()), list(contact.phones.all())
            assert contact.name == f"{contact.first_name} {contact.last_name}"
            assert [e.email for e in emails if e.is_primary] == [contact.email]
            assert [p.number for p in phones if p.is_primary] == ([contact.phone] if contact.phone else [])
            for number in [p.number for p in phones]:
                assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number
        assert ContactPhone.objects.exists()
        assert Contact.objects.filter(email_opt_in=True, email_opt_in_at__isnull=False).exists()
        primary = CompanyDomain.objects.filter(company=Company.objects.first()).values_list("domain", flat=True)
        assert Company.objects.first().domain in primary

    def test_leads_cover_every_status_and_custom_fields_are_valid(self, db, demo):
        assert set(Lead.objects.values_list("status", flat=True)) == set(LeadStatus.values)
        assert not Lead.objects.filter(status=LeadStatus.DISQUALIFIED, disqualified_reason="").exists()
        for model in (Company, Contact, Lead, Deal):
            filled = [r.custom_fields for r in model.objects.exclude(custom_fields={})]
            assert filled, model
            for values in filled:
                assert clean_custom_fields(model.object_type, values) == values

    def test_decided_leads_were_worked_then_closed_through_the_service(self, db, demo):
        """crm/demo/leads.py: a qualified or disqualified lead was created working and decided later,
        one logged update (the history the lead-conversion model learns from, docs/predict.md)."""
        decided = Lead.objects.filter(status__in=(LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED))
        assert decided.exists()
        for lead in decided:
            update = ObjectChange.objects.get(object_type="lead", object_id=lead.pk, action=Action.UPDATE)
            assert update.changes["status"] == [LeadStatus.WORKING, lead.status] and update.source == "demo"
            assert lead.created_at < update.time <= timezone.now() and lead.version == 2
        assert not Lead.objects.exclude(pk__in=decided).exclude(version=1).exists()

    def test_every_rep_has_tasks_due_today_and_some_are_overdue(self, db, demo):
        today = timezone.localdate()
        for username in ("rep1", "rep2", "rep3"):
            mine = Task.objects.filter(assignee__username=username, status=TaskStatus.OPEN)
            assert any(timezone.localtime(t.due_at).date() == today for t in mine), username
        assert Task.objects.filter(status=TaskStatus.OPEN, due_at__lt=timezone.now()).exists()
        assert not Task.objects.filter(status=TaskStatus.DONE, completed_at__isnull=True).exists()

    def test_search_finds_demo_companies(self, db, demo):
        admin = get_user_model().objects.get(username="admin")
        company = Company.objects.order_by("id").first()
        prefix = company.name.split()[0][:4]
        assert company in search(admin, prefix, types=["company"], limit=50)["company"]

    def test_change_log_has_one_create_per_record_from_the_demo(self, db, demo):
        logged = dict(
            ObjectChange.objects.filter(action=Action.CREATE, source="demo", user_name="admin")
            .values_list("object_type")
            .annotate(n=Count("id"))
        )
        records = {"company": 20, "contact": 60, "lead": 9, "deal": 30, "activity": 180, "task": 24}
        records |= {"product": 12, "price_book": 1}  # the catalogue (crm/demo/products.py); Standard is the migration's
        records["invoice"] = Invoice.objects.count()  # crm/demo/invoices.py, through invoice_create
        # The users, teams, tags and settings the demo adds go through their services: in the change log too.
        settings = {"pipeline": 2, "stage": 11, "custom_field": 4, "user": 9, "team": 2, "tag": 8}
        settings["exchange_rate"] = 36  # EUR and GBP, monthly over 18 months (crm/demo/currencies.py)
        assert logged == {**records, **settings}
        contact = Contact.objects.order_by("id").first()
        entry = ObjectChange.objects.get(object_type="contact", object_id=contact.pk)
        assert entry.changes["email"] == [None, contact.email]
        assert entry.changes["emails"][1] == [f"{e.email} ({e.kind})" for e in contact.emails.all()]

    def test_every_record_has_the_change_log_its_service_writes(self, db, demo):
        """The demo's records are created by the record services: each has the create row a service
        writes (the full snapshot as it was made; a decided lead's one update rolled back), and each
        deal's stage moves are logged updates."""
        for model in (Company, Contact, Lead, Activity, Task):
            rows = ObjectChange.objects.filter(object_type=model.object_type, action=Action.CREATE)
            logged = {row.object_id: row.changes for row in rows}
            records = model.objects.all()
            assert set(logged) == {r.pk for r in records}, model
            updates = ObjectChange.objects.filter(object_type=model.object_type, action=Action.UPDATE)
            for record in records:
                made = changelog.snapshot(record)
                for row in updates.filter(object_id=record.pk):
                    made |= {k: pair[0] for k, pair in row.changes.items()}
                assert logged[record.pk] == changelog.created(made), record
            versions = set(records.values_list("version", flat=True))
            assert versions == {1} if model is not Lead else versions <= {1, 2}, model
        for deal in Deal.objects.prefetch_related("stage_changes"):
            moves = ObjectChange.objects.filter(object_type="deal", object_id=deal.pk, action=Action.UPDATE)
            stages = [c.to_stage_id for c in deal.stage_changes.all()]
            pairs = [[a, b] for a, b in zip(stages, stages[1:], strict=False)]
            assert [m.changes["stage_id"] for m in moves.order_by("id")] == pairs
            assert deal.version == len(stages)

    def test_a_second_run_creates_nothing(self, db, demo):
        before = (
            Company.objects.count(),
            Contact.objects.count(),
            ContactEmail.objects.count(),
            StageChange.objects.count(),
        )
        out = run_demo(if_empty=True)
        assert "already has" in out
        with pytest.raises(CommandError, match="already has companies or contacts"):
            run_demo()
        after = (
            Company.objects.count(),
            Contact.objects.count(),
            ContactEmail.objects.count(),
            StageChange.objects.count(),
        )
        assert after == before


def test_pbkdf2_demo_passwords_work_and_are_upgraded_on_login(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    encoded = setup._password_hash("demorep1")
    hasher = get_hasher()
    assert check_password("demorep1", encoded)
    assert not hasher.verify("demorep2", encoded)
    assert hasher.must_update(encoded)  # Django re-hashes at full strength on the first login


class Rollback(Exception):
    pass


def _company_names(seed: int) -> list[str]:
    """The company names a tiny demo gets with this seed; the demo itself is rolled back."""
    try:
        with transaction.atomic():
            run_demo(seed=seed, companies=8, contacts=5, deals=2)
            names = list(Company.objects.order_by("id").values_list("name", flat=True))
            raise Rollback
    except Rollback:
        return names


def test_the_same_seed_gives_the_same_data(db):
    first = _company_names(7)
    assert Company.objects.count() == 0  # rolled back
    assert _company_names(7) == first
    assert _company_names(8) != first


@pytest.mark.parametrize(
    ("options", "message"),
    [({"companies": -1}, "--companies must be between"), ({"companies": 0, "deals": 5}, "needs at least one company")],
)
def test_bad_sizes_are_refused_before_anything_is_written(db, options, message):
    with pytest.raises(CommandError, match=message):
        run_demo(**options)
    assert not get_user_model().objects.exists()


def test_a_failure_leaves_nothing_behind(db):
    Role.objects.filter(slug="read-only").delete()  # the last demo user's role: fails after the others exist
    with pytest.raises(CommandError, match="read-only"):
        run_demo()
    assert not get_user_model().objects.exists()
    assert not Team.objects.exists() and not Pipeline.objects.exists()


def test_existing_users_keep_their_password(db):
    get_user_model().objects.create_superuser("admin", password="mine")
    out = run_demo(companies=3, contacts=3, deals=1)
    assert "(existing user: unchanged)" in out
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("mine")
    assert admin.profile.role.slug == "admin"  # a missing profile is added, through the user service
    records = 3 + 3 + 5 + 1 + 9 + 1 + 12 + 1  # ... and the catalogue: 12 products, the Partner price book
    records += Invoice.objects.count()  # and the invoices (crm/demo/invoices.py)
    settings = 2 + 11 + 4 + 8 + 2 + 8  # pipelines, stages, custom fields, the other users, teams, tags
    settings += 36  # exchange rates: EUR and GBP, monthly over 18 months
    assert ObjectChange.objects.filter(user=admin, source="demo", action="create").count() == records + settings
    [profile_added] = ObjectChange.objects.filter(object_type="user", object_id=admin.pk)
    assert profile_added.changes["role"] == [None, "admin"]


def test_an_existing_admin_user_who_is_no_admin_is_refused(db):
    get_user_model().objects.create_user("admin", password="mine")  # no profile: no role, not a superuser
    with pytest.raises(CommandError, match="Only admins may manage teams"):
        run_demo(companies=3, contacts=3, deals=1)
    assert not Team.objects.exists() and not ObjectChange.objects.exists()


def test_an_admin_user_without_the_admin_role_is_refused_and_nothing_is_left(db):
    Profile.objects.create(user=get_user_model().objects.create_user("admin"), role=Role.objects.get(slug="sales-rep"))
    with pytest.raises(CommandError, match="Only admins may manage"):
        run_demo(companies=3, contacts=3, deals=1)
    assert not Pipeline.objects.exists() and not Team.objects.exists() and not ObjectChange.objects.exists()
