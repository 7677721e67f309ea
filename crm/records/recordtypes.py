"""The built-in record types: companies, contacts, leads, deals, activities and tasks, declared once
(crm.core.recordtypes). The API, the web pages, search and export are built from these."""

from crm.core.normalize import phone_search_tokens
from crm.core.recordtypes import ApiSpec, PersonSpec, RecordField, RecordType, SearchSpec, register
from crm.records.api import schemas as s
from crm.records.api.fast import dumper
from crm.records.models import (
    Activity,
    ActivityKind,
    Company,
    Contact,
    Deal,
    DealStatus,
    Lead,
    LeadStatus,
    LifecycleStage,
    Task,
    TaskPriority,
    TaskStatus,
)
from crm.records.models.companies import CompanySize
from crm.records.services import activities, companies, contacts, deals, leads

F = RecordField


def text(name: str, label: str = "", **kw) -> RecordField:
    return F(name, "str", label or name.replace("_", " ").capitalize(), **kw)


def choice(name: str, label: str, choices, **kw) -> RecordField:
    """A field holding one of ``choices`` (a Django choices enum, or (value, label) pairs): its filter
    takes only these values, and the API's schema lists them."""
    return F(name, "choice", label, choices=tuple(getattr(choices, "choices", choices)), **kw)


def record_id(name: str, label: str = "", **kw) -> RecordField:
    return F(name, "int", label or name.capitalize(), lookup=f"{name}_id", **kw)


COMMON = (
    F("id", "int", "ID", sortable=True, read_only=True),
    F("created_at", "datetime", "Created", sortable=True, read_only=True),
    F("updated_at", "datetime", "Updated", sortable=True, read_only=True),
)
OWNED = (*COMMON, record_id("owner", listed=True), text("tag", "Tag", lookup="tags__name"))
ERASED_NAME = {"first_name": "Erased", "last_name": "person"}  # what an anonymized person is called
# A company's or contact's postal address beside its city and country.
ADDRESS = (
    text("street", importable=True),
    text("region", importable=True),
    text("postal_code", "Postal code", importable=True),
)
UPDATED_COLUMN = F("updated_at", "datetime", "Updated", listed=True, sortable=True, read_only=True)
# A customer's purchases (crm/orders/stats.py keeps them in PurchaseStats, rewritten by every order write):
# filter and sort like the record's own columns. A customer with no order at all has no stats row, so
# these are empty (``order_count__isnull=true``), not 0; one whose orders were all cancelled has 0.
PURCHASES = (
    F(
        "total_spent",
        "decimal",
        "Total spent",
        lookup="purchase_stats__total_spent",
        sort_path="purchase_stats__total_spent",
        sortable=True,
        read_only=True,
        exportable=False,
    ),
    F(
        "last_order_date",
        "date",
        "Last order",
        lookup="purchase_stats__last_order_date",
        sort_path="purchase_stats__last_order_date",
        sortable=True,
        read_only=True,
        exportable=False,
    ),
    F(
        "order_count",
        "int",
        "Orders",
        lookup="purchase_stats__order_count",
        sort_path="purchase_stats__order_count",
        sortable=True,
        read_only=True,
        exportable=False,
    ),
)


def _phones(numbers) -> list[str]:
    return [token for n in numbers if n for token in phone_search_tokens(n)]


def _company_text(c: Company) -> list[str]:
    return [c.name, *(d.domain for d in c.domains.all()), *_phones([c.phone])]


def _contact_text(c: Contact) -> list[str]:
    return [c.name, c.title, *(e.email for e in c.emails.all()), *_phones(p.number for p in c.phones.all())]


def _lead_text(lead: Lead) -> list[str]:
    return [lead.name, lead.company_name, lead.email, *_phones([lead.phone])]


def _deal_text(d: Deal) -> list[str]:
    return [d.name]


def _ordered(*fields: RecordField) -> tuple[RecordField, ...]:
    """Fields by name; a later one replaces an earlier one of the same name, in the later place."""
    out: dict[str, RecordField] = {}
    for f in fields:
        out.pop(f.name, None)
        out[f.name] = f
    return tuple(out.values())


register(
    RecordType(
        object_type="company",
        form="crm.web.forms.records.CompanyForm",
        importer="crm.dataio.importers.contacts.CompanyImporter",
        duplicates="crm.dataio.duplicates.COMPANIES",
        tags=True,
        slug="companies",
        detail_related=("owner", "parent"),
        model=Company,
        singular="company",
        plural="companies",
        fields=_ordered(
            text("name", listed=True, sortable=True, searchable=True, required=True, importable=True),
            text("domain", lookup="domains__domain", listed=True, searchable=True, importable=True),
            text("industry", listed=True, importable=True),
            choice("size", "Size", CompanySize, importable=True),
            text("phone", searchable=True, importable=True),
            text("website", importable=True),
            *ADDRESS[:1],
            text("city", listed=True, importable=True),
            *ADDRESS[1:],
            text("country", importable=True),
            choice("lifecycle_stage", "Stage", LifecycleStage, listed=True, importable=True),
            F("annual_revenue", "decimal", "Annual revenue", sortable=True, importable=True, min_value=0),
            record_id("parent"),
            *PURCHASES,
            *OWNED,
            UPDATED_COLUMN,
        ),
        create=companies.company_create,
        update=companies.company_update,
        delete=companies.company_delete,
        api=ApiSpec(
            out=s.CompanyOut,
            create_in=s.CompanyIn,
            update_in=s.CompanyPatch,
            fast=dumper(Company, s.CompanyOut),
            prefetch=("tags", "domains"),
        ),
        search=SearchSpec(text=_company_text, prefetch=("domains",)),
        timeline=True,
    )
)

register(
    RecordType(
        object_type="contact",
        form="crm.web.forms.records.ContactForm",
        importer="crm.dataio.importers.contacts.ContactImporter",
        duplicates="crm.dataio.duplicates.CONTACTS",
        tags=True,
        slug="contacts",
        detail_related=("owner", "company"),
        model=Contact,
        singular="contact",
        plural="contacts",
        fields=_ordered(
            text("name", listed=True, sortable=True, searchable=True),
            text("email", lookup="emails__email", listed=True, sortable=True, searchable=True, importable=True),
            text("phone", lookup="phones__number", listed=True, searchable=True, importable=True),
            record_id("company", listed=True, importable=True),
            text("title", listed=True, searchable=True, importable=True),
            choice("lifecycle_stage", "Stage", LifecycleStage, listed=True, importable=True),
            text("first_name", "First name", filterable=False, importable=True),
            text("last_name", "Last name", filterable=False, sortable=True, importable=True),
            *ADDRESS[:1],
            text("city", importable=True),
            *ADDRESS[1:],
            text("country", importable=True),
            text("source", importable=True),
            F("email_opt_in", "bool", "Email opt-in", importable=True),
            F("email_opt_in_at", "datetime", "Opted in"),
            text("email_opt_in_source", "Opt-in source"),
            *PURCHASES,
            *OWNED,
            UPDATED_COLUMN,
        ),
        create=contacts.contact_create,
        update=contacts.contact_update,
        delete=contacts.contact_delete,
        api=ApiSpec(
            out=s.ContactOut,
            create_in=s.ContactIn,
            update_in=s.ContactPatch,
            fast=dumper(Contact, s.ContactOut),
            prefetch=("tags", "emails", "phones", "past_companies"),
        ),
        search=SearchSpec(text=_contact_text, prefetch=("emails", "phones")),
        timeline=True,
        person=PersonSpec(
            email_lookups=("email", "emails__email"),
            phone_lookups=("phone", "phones__number"),
            anonymized={
                **ERASED_NAME,
                **dict.fromkeys(("title", "street", "city", "region", "postal_code", "email_opt_in_source"), ""),
                "emails": [],
                "phones": [],
                "email_opt_in": False,
            },
        ),
    )
)

register(
    RecordType(
        object_type="lead",
        form="crm.web.forms.records.LeadForm",
        importer="crm.dataio.importers.records.LeadImporter",
        tags=True,
        slug="leads",
        detail_related=("owner",),
        model=Lead,
        singular="lead",
        plural="leads",
        fields=_ordered(
            text("name", listed=True, sortable=True, searchable=True),
            text("first_name", "First name", filterable=False, importable=True),
            text("last_name", "Last name", filterable=False, sortable=True, importable=True),
            text("company_name", "Company", listed=True, searchable=True, importable=True),
            text("title", importable=True),
            text("email", listed=True, searchable=True, importable=True),
            text("phone", searchable=True, importable=True),
            text("website", importable=True),
            choice("status", "Status", LeadStatus, listed=True, sortable=True, importable=True),
            F("score", "int", "Score", listed=True, sortable=True, min_value=-1_000_000, max_value=1_000_000),
            text("disqualified_reason", "Disqualified because", importable=True),
            text("source", listed=True, importable=True),
            F("converted_at", "datetime", "Converted", read_only=True),
            # What the conversion made (crm/records/services/conversion.py): set by it, never typed.
            record_id("converted_contact", "Converted to contact", read_only=True),
            record_id("converted_company", "Converted to company", read_only=True),
            record_id("converted_deal", "Converted to deal", read_only=True),
            *OWNED,
            UPDATED_COLUMN,
        ),
        create=leads.lead_create,
        update=leads.lead_update,
        delete=leads.lead_delete,
        api=ApiSpec(out=s.LeadOut, create_in=s.LeadIn, update_in=s.LeadPatch, prefetch=("tags",)),
        search=SearchSpec(text=_lead_text),
        timeline=True,
        person=PersonSpec(
            email_lookups=("email",),
            phone_lookups=("phone",),
            anonymized={**ERASED_NAME, **dict.fromkeys(("title", "email", "phone", "website"), "")},
        ),
    )
)

register(
    RecordType(
        object_type="deal",
        form="crm.web.forms.records.DealForm",
        importer="crm.dataio.importers.records.DealImporter",
        tags=True,
        slug="deals",
        detail_related=("owner", "company", "stage", "pipeline"),
        model=Deal,
        singular="deal",
        plural="deals",
        fields=_ordered(
            text("name", listed=True, sortable=True, searchable=True, required=True, importable=True),
            F("amount", "decimal", "Amount", listed=True, sortable=True, importable=True, min_value=0),
            record_id("stage", listed=True, importable=True),
            choice("status", "Status", DealStatus, listed=True, importable=True),
            F("expected_close_date", "date", "Close date", listed=True, sortable=True, importable=True),
            record_id("company", listed=True, importable=True),
            record_id("pipeline", importable=True),
            F("contact", "int", "Contact", lookup="contacts__id"),
            text("currency", importable=True),
            F("probability", "int", "Probability", sortable=True, min_value=0, max_value=100),
            # Whether the probability was typed (kept across stage moves) or follows the stage.
            F("probability_overridden", "bool", "Probability typed", read_only=True),
            text("lost_reason", "Lost because", importable=True),
            F("closed_at", "datetime", "Closed", read_only=True),
            F("stage_changed_at", "datetime", "Stage changed", filterable=False, sortable=True, read_only=True),
            *OWNED,
        ),
        create=deals.deal_create,
        update=deals.deal_update,
        delete=deals.deal_delete,
        api=ApiSpec(
            out=s.DealOut,
            create_in=s.DealCreate,
            update_in=s.DealPatch,
            fast=dumper(Deal, s.DealOut),
            prefetch=("tags", "deal_contacts"),
        ),
        search=SearchSpec(text=_deal_text),
        timeline=True,
    )
)

# Activities and tasks filter by the records they are linked to: ?contact=42.
LINKS = tuple(F(name, "int", name.capitalize(), link=name) for name in ("company", "contact", "lead", "deal"))

register(
    RecordType(
        object_type="activity",
        importer="crm.dataio.importers.records.ActivityImporter",
        slug="activities",
        model=Activity,
        singular="activity",
        plural="activities",
        fields=(
            *COMMON,
            record_id("owner"),
            choice("kind", "Kind", ActivityKind),
            *LINKS,
            F("occurred_at", "datetime", "Occurred", sortable=True),
            F("duration_minutes", "int", "Duration (minutes)", importable=True, min_value=0, max_value=100_000),
            choice("direction", "Direction", Activity._meta.get_field("direction").choices),
            text("outcome"),
            text("subject", filterable=False, searchable=True),
            text("body", filterable=False, searchable=True),
        ),
        create=activities.activity_create,
        update=activities.activity_update,
        delete=activities.activity_delete,
        api=ApiSpec(
            out=s.ActivityOut,
            create_in=s.ActivityIn,
            update_in=s.ActivityPatch,
            default_sort="-occurred_at",
            prefetch=("participants", "links"),
            text_fields=("subject", "body"),
        ),
        pages=False,  # shown on the timeline of the records it is linked to
    )
)

register(
    RecordType(
        object_type="task",
        form="crm.web.forms.records.TaskForm",
        slug="tasks",
        detail_related=("assignee",),
        model=Task,
        singular="task",
        plural="tasks",
        fields=(
            text("title", listed=True, filterable=False, sortable=True, searchable=True, required=True),
            F("due_at", "datetime", "Due", listed=True, sortable=True),
            choice("priority", "Priority", TaskPriority, listed=True, sortable=True),
            choice("status", "Status", TaskStatus, listed=True),
            record_id("assignee", listed=True),
            *COMMON,
            F("reminder_at", "datetime", "Reminder"),
            F("completed_at", "datetime", "Completed", sortable=True, read_only=True),
            record_id("created_by", "Created by", read_only=True),
            *LINKS,
            text("description", filterable=False, searchable=True),
        ),
        create=activities.task_create,
        update=activities.task_update,
        delete=activities.task_delete,
        api=ApiSpec(
            out=s.TaskOut,
            create_in=s.TaskIn,
            update_in=s.TaskPatch,
            default_sort="due_at",
            prefetch=("links",),
            text_fields=("title", "description"),
        ),
        owner_field="assignee",
    )
)
