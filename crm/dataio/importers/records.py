"""Importing leads, deals and activities: how a file row becomes each type's service data.

Leads are matched by email, like contacts. Deals and activities have no natural key: every row
creates one, unless ``match_on`` names a custom field holding another system's id. Links to other
records (company by name, contact and lead by email or name, deal by name) are looked up among the
records the importing user can see; a link that finds nothing, or finds several, is an error on that
row rather than a record silently saved without it.
Dates are read as in ``crm.dataio.dates``.
"""

from __future__ import annotations

import decimal
import re

from crm.core.normalize import normalize_email, normalize_phone
from crm.dataio import dates
from crm.dataio.importers import synonyms as spellings
from crm.dataio.importers.base import Importer, choice, money, website
from crm.records.models import Activity, Contact, ContactEmail, Deal, Lead, LeadStatus, Pipeline
from crm.records.models.activities import ActivityKind
from crm.records.services.activities import activity_create, activity_delete, activity_update
from crm.records.services.activities_bulk import activity_create_many
from crm.records.services.deals import deal_create, deal_delete, deal_update
from crm.records.services.leads import lead_create, lead_create_many, lead_delete, lead_update

# Lead statuses as other CRMs name them (Salesforce, HubSpot, Zoho) -> ours.
LEAD_STATUS_ALIASES = {
    "open": "new",
    "not contacted": "new",
    "open - not contacted": "new",
    "working - contacted": "working",
    "in progress": "working",
    "attempted to contact": "working",
    "contacted": "working",
    "connected": "working",
    "contact in future": "nurturing",
    "bad timing": "nurturing",
    "pre-qualified": "qualified",
    "open deal": "qualified",
    "closed - converted": "qualified",
    "closed - not converted": "disqualified",
    "unqualified": "disqualified",
    "not qualified": "disqualified",
    "junk lead": "disqualified",
    "lost lead": "disqualified",
}
ACTIVITY_KIND_ALIASES = {
    "phone call": "call",
    "phone": "call",
    "logged call": "call",
    "e-mail": "email",
    "mail": "email",
    "logged email": "email",
    "event": "meeting",
    "appointment": "meeting",
    "comment": "note",
    "notes": "note",
}
DIRECTIONS = {"inbound": "inbound", "incoming": "inbound", "in": "inbound", "outbound": "outbound"}
DIRECTIONS |= {"outgoing": "outbound", "out": "outbound"}
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
LEAD_TEXT = ("first_name", "last_name", "company_name", "title", "disqualified_reason", "source")
ACTIVITY_TEXT = ("subject", "body", "outcome")


class LinkingImporter(Importer):
    """Looks up the records a row links to, once per distinct value in the file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (kind, value) -> record id, or the message saying why there is none
        self.links: dict[tuple[str, str], int | str] = {}

    def _link(self, kind: str, value: str, find) -> int:
        key = (kind, value.lower())
        if key not in self.links:
            self._remember(self.links, key, find())
        found = self.links[key]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def linked_company(self, name: str) -> int:
        def find():
            return self.company(name, []) or f"No company named {name!r}."

        return self._link("company", name, find)

    def contact(self, value: str) -> int:
        def find():
            visible = Contact.objects.restrict(self.actor)
            if "@" in value:
                email = normalize_email(value)
                ids = ContactEmail.objects.filter(email=email).values("contact_id")
                return _pk(visible.filter(pk__in=ids).order_by("pk").first()) or f"No contact with email {email}."
            return _only(visible.filter(name__iexact=value), f"contact named {value!r}", "give the email instead")

        return self._link("contact", value, find)

    def lead(self, value: str) -> int:
        def find():
            visible = Lead.objects.restrict(self.actor)
            if "@" in value:
                email = normalize_email(value)
                return _pk(visible.filter(email=email).order_by("pk").first()) or f"No lead with email {email}."
            return _only(visible.filter(name__iexact=value), f"lead named {value!r}", "give the email instead")

        return self._link("lead", value, find)

    def deal(self, name: str) -> int:
        def find():
            visible = Deal.objects.restrict(self.actor).filter(name__iexact=name)
            return _only(visible, f"deal named {name!r}", "rename one, or link the activity after the import")

        return self._link("deal", name, find)


class LeadImporter(LinkingImporter):
    """Leads, matched by email."""

    model = Lead
    key_name = "email"
    create, update, delete = staticmethod(lead_create), staticmethod(lead_update), staticmethod(lead_delete)
    create_many = staticmethod(lead_create_many)
    key_index = (Lead, "email", "pk")
    synonyms, own_prefix = spellings.LEAD_SYNONYMS, spellings.LEAD_PREFIX

    def key(self, data: dict) -> str | None:
        return data.get("email") or None

    text_targets = LEAD_TEXT
    later_targets = ("full_name", "status")

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target == "email":
            data[target] = normalize_email(value)
        elif target == "phone":
            data[target] = normalize_phone(value)
        elif target == "website":
            data[target] = website(value)
        elif target == "score":
            data[target] = whole_number(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        self.split_full_name(data, later)
        if "status" in later:
            label = later["status"][1]
            try:
                data["status"] = lead_status(label)
            except ValueError as exc:
                errors[self.column(later, "status")] = str(exc)
                return
            if data["status"] == LeadStatus.DISQUALIFIED and "disqualified_reason" not in data:
                if label.lower() != LeadStatus.DISQUALIFIED:
                    data["disqualified_reason"] = label  # "Junk Lead" says why


class DealImporter(LinkingImporter):
    """Deals: every row creates one, in the named pipeline and stage (else the default pipeline's first
    open stage)."""

    model = Deal
    key_name = ""  # no natural key (two rows may well be two deals named "Renewal"); match_on=cf_<id> can match
    create, update, delete = staticmethod(deal_create), staticmethod(deal_update), staticmethod(deal_delete)
    synonyms, own_prefix = spellings.DEAL_SYNONYMS, spellings.DEAL_PREFIX

    def for_update(self, deal: Deal, data: dict) -> dict:
        # The contact column only links new deals: replacing a matched deal's contacts could not be undone.
        data = super().for_update(deal, data)
        data.pop("contacts", None)
        return data

    text_targets = ("name", "lost_reason")
    later_targets = ("pipeline", "stage")  # resolved together

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target == "amount":
            data[target] = money(value)
        elif target == "currency":
            data[target] = currency(value)
        elif target == "expected_close_date":
            data[target] = dates.parse_date(value)
        elif target == "company":
            data["company_id"] = self.linked_company(value)
        elif target == "contact":
            data["contacts"] = [{"contact_id": self.contact(value), "role": "other"}]
        elif target == "probability":
            data[target] = percent(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        self._place(later.get("pipeline"), later.get("stage"), data, errors)

    def _place(self, pipeline_cell, stage_cell, data: dict, errors: dict) -> None:
        """Set pipeline_id or stage_id from the names; the service picks the stage when none is named."""
        pipeline = None
        if pipeline_cell:
            column, name = pipeline_cell
            pipeline = self._pipelines().get(name.lower())
            if pipeline is None:
                known = ", ".join(p.name for p in self._pipelines().values())
                errors[self.header[column]] = f"No pipeline named {name!r} (there are: {known or 'none'})."
                return
        if stage_cell is None:
            if pipeline is not None:
                data["pipeline_id"] = pipeline.pk
            return
        column, name = stage_cell
        pipeline = pipeline or self._default_pipeline()
        if pipeline is None:
            errors[self.header[column]] = "There is no pipeline yet: an admin must create one."
            return
        found = {s.name.lower(): s for s in pipeline.stages.all()}.get(name.lower())
        if found is None:
            known = ", ".join(s.name for s in pipeline.stages.all())
            errors[self.header[column]] = f"Pipeline {pipeline.name!r} has no stage {name!r} (it has: {known})."
        else:
            data["stage_id"] = found.pk

    def _pipelines(self) -> dict[str, Pipeline]:
        # Pipelines are settings (a handful): read once per import, with their stages.
        if not hasattr(self, "pipelines"):
            self.pipelines = {p.name.lower(): p for p in Pipeline.objects.prefetch_related("stages")}
        return self.pipelines

    def _default_pipeline(self) -> Pipeline | None:
        ordered = sorted(self._pipelines().values(), key=lambda p: (not p.is_default, p.order, p.pk))
        return ordered[0] if ordered else None


class ActivityImporter(LinkingImporter):
    """Activities (notes, calls, meetings, emails): every row creates one; a row without a kind is a note."""

    model = Activity
    key_name = ""  # no natural key: every row creates (or match_on=cf_<id> matches)
    create = staticmethod(activity_create)
    create_many = staticmethod(activity_create_many)
    update, delete = staticmethod(activity_update), staticmethod(activity_delete)
    synonyms, own_prefix = spellings.ACTIVITY_SYNONYMS, spellings.ACTIVITY_PREFIX

    text_targets = ACTIVITY_TEXT
    later_targets = ("occurred_at", "time")  # a date column and maybe a separate time column

    def cell(self, target: str, value: str, data: dict, warnings: list[str]) -> bool:
        if target == "kind":
            data[target] = activity_kind(value)
        elif target == "direction":
            data[target] = direction(value)
        elif target == "duration_minutes":
            data[target] = minutes(value)
        elif target in ("contact", "lead", "deal"):
            data[f"{target}_id"] = getattr(self, target)(value)
        elif target == "company":
            data["company_id"] = self.linked_company(value)
        else:
            return False
        return True

    def finish(self, data: dict, errors: dict, later: dict) -> None:
        data.setdefault("kind", ActivityKind.NOTE)
        time = later.get("time", (None, ""))[1]
        if time:
            try:
                dates.parse_time(time)
            except ValueError as exc:
                errors[self.column(later, "time")] = str(exc)  # the error names the time column
                time = ""
        if "occurred_at" in later:
            try:
                data["occurred_at"] = dates.parse_datetime(later["occurred_at"][1], time)
            except ValueError as exc:
                errors[self.column(later, "occurred_at")] = str(exc)
        elif time:
            errors[self.column(later, "time")] = "A time needs a date column (mapped to occurred_at)."


# ---- values ---------------------------------------------------------------------------------------


def _pk(record) -> int | None:
    return record.pk if record is not None else None


def _only(qs, what: str, advice: str) -> int | str:
    """The one record of ``qs``, or a message: none, or several (which one is meant is not guessed)."""
    ids = list(qs.order_by("pk").values_list("pk", flat=True)[:2])
    if not ids:
        return f"No {what}."
    if len(ids) > 1:
        return f"More than one {what}: {advice}."
    return ids[0]


def lead_status(value: str) -> str:
    alias = LEAD_STATUS_ALIASES.get(re.sub(r"\s+", " ", value.lower()))
    return alias or choice(value, LeadStatus)


def activity_kind(value: str) -> str:
    return ACTIVITY_KIND_ALIASES.get(value.lower()) or choice(value, ActivityKind)


def direction(value: str) -> str:
    found = DIRECTIONS.get(value.lower())
    if found is None:
        raise ValueError(f"{value!r} is not inbound or outbound.")
    return found


def currency(value: str) -> str:
    code = CURRENCY_SIGNS.get(value, value).upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{value!r} is not a currency code (three letters, e.g. USD).")
    return code


def whole_number(value: str, low: int = -(2**31), high: int = 2**31 - 1) -> int:
    try:
        number = int(value.replace(",", "").replace(" ", ""))
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number.") from None
    if not low <= number <= high:
        raise ValueError(f"{value!r} is out of range ({low} to {high}).")
    return number


def percent(value: str) -> int:
    """50, 50% or 50.0; a fraction 0.5 is a spreadsheet's percent cell and means 50."""
    text = value.strip().removesuffix("%").strip()
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a probability (0 to 100).") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a probability (0 to 100).")
    if not value.strip().endswith("%") and 0 < number < 1:
        number *= 100
    if not 0 <= number <= 100:
        raise ValueError(f"{value!r} is not a probability (0 to 100).")
    return int(number.to_integral_value(rounding=decimal.ROUND_HALF_UP))


def minutes(value: str) -> int:
    """30, 30 min, or h:mm(:ss) as call logs write a duration."""
    text = value.strip().lower()
    match = re.fullmatch(r"(\d+):(\d{2})(?::(\d{2}))?", text)
    if match:
        hours, mins, secs = int(match[1]), int(match[2]), int(match[3] or 0)
        if match[3] is None:  # h:mm
            return hours * 60 + mins
        return hours * 60 + mins + (1 if secs >= 30 else 0)
    return whole_number(re.sub(r"\s*(minutes?|mins?|m)$", "", text), 0, 1_000_000)
