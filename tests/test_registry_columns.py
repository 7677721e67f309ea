"""Every column of a declared type's model is either a registry field (so a role's field rule can name
it, and every entry point that reads the registry treats it alike) or listed as internal with a reason
(``RecordType.internal``, ``recordtypes.RECORD_MODEL_INTERNAL``). A model that gains a column fails
here until its declaration says which it is."""

from __future__ import annotations

from crm.access import fieldrules
from crm.core import recordtypes

# Columns users see or set that are not declared yet (issue #13): this list only shrinks.
PENDING: dict[str, set[str]] = {
    "company": {"street", "region", "postal_code", "phone", "website"},
    "contact": {"street", "region", "postal_code", "first_name", "email_opt_in_at", "email_opt_in_source"},
    "lead": {
        "first_name",
        "last_name",
        "title",
        "phone",
        "website",
        "disqualified_reason",
        "converted_contact",
        "converted_company",
        "converted_deal",
    },
    "deal": {"probability_overridden", "lost_reason"},
    "activity": {"duration_minutes"},
    "task": {"created_by", "completed_at"},
    "quote": {"price_book", "sent_at", "answered_at", "accepted_by_name", "answered_ip", "decline_reason"},
    "order": {"tax_mode", "notes", "subtotal", "discount_total", "tax_total", "cancelled_at"},
    "invoice": {"notes"},
}


def undeclared(rt) -> set[str]:
    """The model's columns no field of the type holds (by name, ``<name>_id`` or a lookup's root)."""
    known = fieldrules.aliases(rt)
    return {f.name for f in rt.model._meta.concrete_fields if f.name not in known and f.attname not in known}


def test_every_column_is_a_field_or_internal_with_a_reason():
    problems = []
    for rt in recordtypes.declared_types():
        internal = {**recordtypes.RECORD_MODEL_INTERNAL, **rt.internal}
        for column in sorted(undeclared(rt) - set(internal) - PENDING.get(rt.object_type, set())):
            problems.append(
                f"{rt.object_type}.{column}: declare it as a RecordField, or list it in the declaration's "
                "`internal` with the reason no user sees or sets it"
            )
        for column, reason in rt.internal.items():
            if not reason.strip():
                problems.append(f"{rt.object_type}.{column}: an internal column needs its reason")
    assert not problems, "\n".join(problems)


def test_internal_and_pending_columns_are_real_and_not_declared():
    """A stale entry (a column since declared, renamed or removed) is a mistake too."""
    problems = []
    for rt in recordtypes.declared_types():
        columns = {f.name for f in rt.model._meta.concrete_fields}
        listed = set(rt.internal) | PENDING.get(rt.object_type, set())
        for column in sorted(listed - columns):
            problems.append(f"{rt.object_type}.{column} is listed but the model has no such column")
        for column in sorted(listed - undeclared(rt)):
            if column in columns:
                problems.append(f"{rt.object_type}.{column} is a declared field and listed as internal or pending")
    assert not problems, "\n".join(problems)
