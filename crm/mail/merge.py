"""The context a mail template renders over: the record it is about and the sender, as plain values.

``{{ contact.first_name }}`` (or the record's fields at the top level, as rule texts have them),
``{{ record }}`` (its display name), ``{{ sender.name }}``, ``{{ sender.email }}``. A field hidden from
the reader (the sender previewing or sending) renders empty, as in rule texts."""

from __future__ import annotations

from crm.automation.templating import record_context, record_names
from crm.core import templating
from crm.core.templating import Fields

SENDER_FIELDS = ("name", "first_name", "last_name", "email", "username")


def sender_fields(user) -> Fields:
    if user is None:
        return Fields(dict.fromkeys(SENDER_FIELDS, ""))
    name = user.get_full_name() or user.username
    return Fields(
        {
            "name": name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "username": user.username,
        }
    )


def context(record, sender) -> dict:
    return {**record_context(record, sender), "sender": sender_fields(sender)}


def names(record_type: str) -> dict:
    """What a template for ``record_type`` (blank: any record) may name."""
    base = record_names(record_type) if record_type else {"record": None}
    return {**base, "sender": SENDER_FIELDS}


def validate(text: str, record_type: str, *, field: str) -> None:
    templating.validate(text, names(record_type), field=field)


def render(text: str, record, sender, *, html: bool) -> str:
    return templating.render(text, context(record, sender), html=html)
