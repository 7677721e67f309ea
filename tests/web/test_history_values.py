"""The change history shows values as the record page does: dates in the user's zone, choice labels,
money with its currency, Yes/No, users, stages and linked records by name (linked only when the
reader may open them), hidden fields still masked."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from crm.access.models import Profile
from crm.customization.services import custom_field_create
from crm.records.services import activities, companies, contacts, deals

pytestmark = pytest.mark.django_db


def history(web, user, slug, pk) -> str:
    page = web(user).get(f"/{slug}/{pk}/timeline/", {"show": "change"}).content.decode()
    return re.sub(r"\s+", " ", page)


def test_a_company_s_changes_read_like_its_page(web, rep_a, acme):
    companies.company_update(
        acme, actor=rep_a, data={"size": "11-50", "annual_revenue": "1250000", "lifecycle_stage": "customer"}
    )
    page = history(web, rep_a, "companies", acme.pk)
    assert "<ins>11–50</ins>" in page and "S11" not in page
    assert "<ins>$1,250,000</ins>" in page
    assert "<ins>Customer</ins>" in page
    detail = web(rep_a).get(f"/companies/{acme.pk}/").content.decode()
    assert re.search(r"<dt>Employees</dt><dd>(<[^>]+>)*11–50<", detail)  # inside its inline-edit affordance


def test_a_deal_s_dates_money_stage_and_links(web, rep_a, rep_b, acme, pipeline, foreign_currencies):
    hidden_co = companies.company_create(actor=rep_b, data={"name": "Rep B Secret Co"}).obj
    deal = deals.deal_create(
        actor=rep_a, data={"name": "Big", "pipeline_id": pipeline.pk, "currency": "EUR", "amount": "100"}
    ).obj
    proposal = pipeline.stages.get(name="Proposal")
    deals.deal_update(
        deal,
        actor=rep_a,
        data={"amount": "12000", "expected_close_date": "2026-12-04", "company_id": acme.pk, "stage_id": proposal.pk},
    )
    page = history(web, rep_a, "deals", deal.pk)
    assert "<del>€100</del> → <ins>€12,000</ins>" in page
    year = "" if timezone.localdate().year == 2026 else ", 2026"
    assert f"<ins>Dec 4{year}</ins>" in page and "2026-12-04" not in page
    assert f'<ins><a href="/companies/{acme.pk}/">Acme Corp</a></ins>' in page
    assert "<ins>Proposal</ins>" in page and f"→ <ins>{proposal.pk}</ins>" not in page
    # A record the reader may not open is its id, never its name or a link.
    from crm.records.models import Deal

    Deal.objects.filter(pk=deal.pk).update(company=hidden_co)  # as if reassigned without a log row
    from crm.audit.models import ObjectChange

    ObjectChange.objects.create(
        action="update",
        object_type="deal",
        object_id=deal.pk,
        object_repr="Big",
        user=rep_a,
        changes={"company_id": [acme.pk, hidden_co.pk]},
    )
    page = history(web, rep_a, "deals", deal.pk)
    assert f"<ins>#{hidden_co.pk}</ins>" in page and "Rep B Secret Co" not in page


def test_times_in_the_user_s_zone_booleans_and_custom_values(web, rep_a, ada, admin_user):
    Profile.objects.filter(user=rep_a).update(time_zone="Asia/Tokyo")
    due = dt.datetime(2026, 12, 4, 21, 9, 25, 283888, tzinfo=dt.UTC)
    task = activities.task_create(actor=rep_a, data={"title": "Call", "contact_id": ada.pk}).obj
    activities.task_update(task, actor=rep_a, data={"due_at": due})
    page = history(web, rep_a, "tasks", task.pk)
    year = "" if timezone.localdate().year == 2026 else " 2026"
    assert f"<ins>Dec 5{year}, 06:09</ins>" in page and "2026-12-04T21:09" not in page
    custom_field_create(
        actor=admin_user,
        data={"object_type": "contact", "key": "vip_since", "label": "VIP since", "field_type": "date"},
    )
    contacts.contact_update(ada, actor=rep_a, data={"email_opt_in": True, "custom_fields": {"vip_since": "2026-03-01"}})
    page = history(web, rep_a, "contacts", ada.pk)
    assert "<del>No</del> → <ins>Yes</ins>" in page
    assert "<ins>Mar 1" in page and "2026-03-01" not in page
