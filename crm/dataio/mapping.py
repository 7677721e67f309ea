"""Which column feeds which field (contacts, companies, leads, deals, activities): suggested from header names,
including the headers of Google Contacts and Outlook exports and the names other CRMs use (HubSpot, Salesforce,
Pipedrive, Zoho); editable, and saved with each batch or under a name (saved_mappings.py). A custom object
type's columns feed its fields (``cf_<key>``, by key or label) and its owner (GENERIC_TARGETS)."""

from __future__ import annotations

import re

from crm.core import recordtypes
from crm.core.errors import ValidationFailed
from crm.customization.validation import definitions

IGNORE = ""  # a column mapped to "" is not imported

# target field -> header spellings (compared lower-case, without spaces, dashes, dots or underscores)
CONTACT_SYNONYMS = {
    "first_name": ["first name", "firstname", "given name", "fname", "forename", "first"],
    "last_name": ["last name", "lastname", "surname", "family name", "lname", "last"],
    "full_name": ["name", "full name", "fullname", "contact name", "display name", "contact"],
    "email": [
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "e-mail 1 - value",
        "email 1",
        "work email",
        "primary email",
        "mail",
    ],
    "email_2": ["e-mail 2 - value", "e-mail 2 address", "email 2", "secondary email", "home email", "other email"],
    "phone": [
        "phone",
        "phone number",
        "telephone",
        "business phone",
        "phone 1 - value",
        "work phone",
        "primary phone",
        "tel",
    ],
    "mobile": ["mobile", "mobile phone", "cell", "cell phone", "phone 2 - value", "mobile number"],
    "title": ["title", "job title", "position", "role", "organization 1 - title", "designation"],
    "company": ["company", "company name", "organization", "organization 1 - name", "account", "account name"],
    "owner": ["owner", "contact owner", "assigned to", "sales rep", "owner email", "record owner"],
    "street": ["street", "address", "business street", "street address", "address 1 - street", "address line 1"],
    "city": ["city", "business city", "address 1 - city", "town"],
    "region": ["region", "state", "province", "business state", "address 1 - region", "state/province"],
    "postal_code": ["postal code", "zip", "zip code", "postcode", "business postal code", "address 1 - postal code"],
    "country": ["country", "business country/region", "country/region", "address 1 - country"],
    "lifecycle_stage": ["lifecycle stage", "lifecycle", "stage", "status"],
    "source": ["source", "lead source", "contact source", "original source"],
    "email_opt_in": ["email opt in", "email opt-in", "opt in", "marketing consent", "subscribed", "consent"],
    "tags": ["tags", "labels", "tag", "group membership", "categories"],
}
COMPANY_SYNONYMS = {
    "name": ["name", "company", "company name", "account", "account name", "organization", "organisation"],
    "domain": ["domain", "company domain", "company domain name", "email domain"],
    "website": ["website", "web site", "url", "homepage", "web", "company website"],
    "industry": ["industry", "sector", "vertical"],
    "size": ["size", "company size", "employees", "number of employees", "headcount"],
    "annual_revenue": ["annual revenue", "revenue", "turnover"],
    "phone": ["phone", "phone number", "telephone", "main phone", "company phone"],
    "owner": CONTACT_SYNONYMS["owner"] + ["account owner", "company owner"],
    "street": CONTACT_SYNONYMS["street"] + ["billing street"],
    "city": CONTACT_SYNONYMS["city"] + ["billing city"],
    "region": CONTACT_SYNONYMS["region"] + ["billing state"],
    "postal_code": CONTACT_SYNONYMS["postal_code"] + ["billing zip", "billing postal code"],
    "country": CONTACT_SYNONYMS["country"] + ["billing country"],
    "lifecycle_stage": CONTACT_SYNONYMS["lifecycle_stage"],
    "tags": CONTACT_SYNONYMS["tags"],
}
LEAD_SYNONYMS = {
    "first_name": CONTACT_SYNONYMS["first_name"],
    "last_name": CONTACT_SYNONYMS["last_name"],
    "full_name": ["name", "full name", "fullname", "lead name", "contact name", "person name", "person"],
    "company_name": [
        "company",
        "company name",
        "organization",
        "organisation",
        "organization name",
        "account",
        "account name",
        "business name",
    ],
    "title": ["title", "job title", "position", "role", "designation"],
    "email": CONTACT_SYNONYMS["email"] + ["person email", "lead email"],
    "phone": CONTACT_SYNONYMS["phone"] + ["mobile", "mobile phone", "cell phone", "person phone", "lead phone"],
    "website": COMPANY_SYNONYMS["website"],
    "status": ["status", "lead status", "lead stage"],
    "disqualified_reason": ["disqualified reason", "disqualification reason", "unqualified reason", "reason"],
    "source": ["source", "lead source", "original source", "source channel"],
    "score": ["score", "lead score", "hubspot score"],
    "owner": CONTACT_SYNONYMS["owner"] + ["lead owner"],
    "tags": CONTACT_SYNONYMS["tags"] + ["lead labels"],
}
DEAL_SYNONYMS = {
    "name": ["name", "deal name", "deal", "deal title", "title", "opportunity name", "opportunity", "potential name"],
    "amount": ["amount", "value", "deal value", "deal amount", "opportunity amount", "amount (usd)"],
    "currency": ["currency", "currency code", "deal currency", "deal currency code", "currency iso code"],
    "pipeline": ["pipeline", "deal pipeline", "pipeline name", "sales pipeline"],
    "stage": ["stage", "deal stage", "stage name", "sales stage", "pipeline stage", "opportunity stage"],
    "expected_close_date": [
        "close date",
        "closing date",
        "expected close date",
        "expected close",
        "estimated close date",
        "deal close date",
    ],
    "company": [c for c in COMPANY_SYNONYMS["name"] if c != "name"] + ["associated company", "organization name"],
    "contact": [
        "contact",
        "contact email",
        "contact name",
        "contact person",
        "person",
        "person name",
        "person email",
        "primary contact",
        "associated contact",
        "email",
    ],
    "owner": CONTACT_SYNONYMS["owner"] + ["deal owner", "opportunity owner"],
    "probability": ["probability", "probability (%)", "probability %", "deal probability", "win probability"],
    "lost_reason": ["lost reason", "loss reason", "closed lost reason", "reason lost"],
    "tags": CONTACT_SYNONYMS["tags"] + ["label", "deal label", "deal labels"],
}
ACTIVITY_SYNONYMS = {
    "kind": ["kind", "type", "activity type", "activity kind", "engagement type", "task subtype", "event type"],
    "subject": [
        "subject",
        "title",
        "activity subject",
        "call title",
        "meeting title",
        "meeting name",
        "note title",
        "task title",
        "email subject",
    ],
    "body": [
        "body",
        "notes",
        "note",
        "description",
        "comments",
        "comment",
        "details",
        "content",
        "note content",
        "note body",
        "call notes",
        "meeting notes",
        "email body",
        "activity note",
        "activity notes",
        "text",
    ],
    "occurred_at": [
        "occurred at",
        "date",
        "activity date",
        "due date",
        "date time",
        "datetime",
        "start",
        "start time",
        "start date",
        "call start time",
        "meeting start time",
        "timestamp",
    ],
    "time": ["time", "due time", "activity time"],
    "direction": ["direction", "call direction", "call type"],
    "outcome": ["outcome", "call outcome", "meeting outcome", "result", "call result", "disposition"],
    "duration_minutes": [
        "duration",
        "duration minutes",
        "duration (minutes)",
        "duration in minutes",
        "call duration",
        "call duration (in minutes)",
    ],
    "contact": ["contact", "contact email", "contact name", "person", "person name", "associated contact", "email"],
    "company": [c for c in COMPANY_SYNONYMS["name"] if c != "name"] + ["associated company", "organization name"],
    "deal": ["deal", "deal name", "deal title", "opportunity", "opportunity name", "associated deal"],
    "lead": ["lead", "lead email", "lead name", "associated lead"],
    "owner": CONTACT_SYNONYMS["owner"] + ["activity owner", "assigned to user", "assigned user", "task owner"],
}
GENERIC_TARGETS = {"owner": CONTACT_SYNONYMS["owner"]}  # a custom object type: its fields are cf_<key>
TARGETS = {
    "contacts": CONTACT_SYNONYMS,
    "companies": COMPANY_SYNONYMS,
    "leads": LEAD_SYNONYMS,
    "deals": DEAL_SYNONYMS,
    "activities": ACTIVITY_SYNONYMS,
}
# Pipedrive writes "Deal - Title", "Activity - Due date": a prefix naming the record type itself is dropped.
OWN_PREFIX = {
    "leads": re.compile(r"^\s*lead\s*[-:]\s*(.+)$", re.I),
    "deals": re.compile(r"^\s*(?:deal|opportunity)\s*[-:]\s*(.+)$", re.I),
    "activities": re.compile(r"^\s*activity\s*[-:]\s*(.+)$", re.I),
}


def targets(object_type: str) -> dict[str, list[str]]:
    """The type's own targets (other than its custom fields) with their header spellings."""
    return TARGETS.get(object_type, GENERIC_TARGETS)


def squash(text: str) -> str:
    return re.sub(r"[\s_\-./:]+", "", text.lower())


def suggest(object_type: str, header: list[str]) -> dict[str, str]:
    """header -> target for every column we recognise (custom fields by key or label), else ""."""
    lookup = {squash(s): target for target, spellings in targets(object_type).items() for s in spellings}
    lookup.update({squash(t): t for t in targets(object_type)})
    for key, field in definitions(record_type(object_type)).items():
        lookup[squash(key)] = lookup[squash(field.label)] = f"cf_{key}"
    used, out = set(), {}
    for column in header:
        target = lookup.get(squash(column), IGNORE)
        prefixed = OWN_PREFIX[object_type].match(column) if object_type in OWN_PREFIX else None
        if not target and prefixed:
            target = lookup.get(squash(prefixed[1]), IGNORE)
        if target in used:  # a second "Email" spelling does not overwrite the first
            target = IGNORE
        used.add(target)
        out[column] = target
    return out


def validate(object_type: str, header: list[str], mapping: dict) -> dict[str, str]:
    """A user's mapping: only known columns and targets, each target at most once."""
    if not isinstance(mapping, dict):
        raise ValidationFailed({"mapping": "Must be an object of column header to field."})
    known = set(targets(object_type)) | {f"cf_{k}" for k in definitions(record_type(object_type))}
    errors, seen = {}, {}
    for column, target in mapping.items():
        if column not in header:
            errors[f"mapping.{column}"] = "No such column in the file."
        elif target and target not in known:
            errors[f"mapping.{column}"] = f"Unknown field {target!r}."
        elif target and target in seen:
            errors[f"mapping.{column}"] = f"{target} is already fed by column {seen[target]!r}."
        elif target:
            seen[target] = column
    if errors:
        raise ValidationFailed(errors)
    return {c: mapping.get(c, IGNORE) or IGNORE for c in header}


def custom_keys(object_type: str) -> list[str]:
    return sorted(definitions(record_type(object_type)))


def record_type(slug: str) -> str:
    """The type's object type ("contacts" -> "contact")."""
    return recordtypes.by_slug(slug).object_type
