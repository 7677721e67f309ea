"""Field-level security for imports: the columns mapped to a field hidden from or read-only for the
importing user's role, found from the mapping before the first row is read.

The record services already refuse such a write row by row (crm.access.fieldrules.refuse_writes);
this is the clear answer up front, naming the columns, so a million-row file is not read to learn
that every row fails, and an update of existing records never starts with a column it may not write.
"""

from __future__ import annotations

from crm.access import fieldrules
from crm.access.policy import policy_for
from crm.core.errors import ValidationFailed

# Import targets that are not a key of the record data but feed a field: a contact's second email
# and mobile number are more of its addresses and numbers; a full name is split into the name parts.
TARGET_FIELDS = {"email_2": "email", "mobile": "phone", "full_name": "last_name"}


def field_of_target(rt, target: str, known: dict[str, str]) -> str | None:
    """The registry field (rule name) an import target feeds, or None."""
    name = fieldrules.field_of(rt, target, known)
    if name is None and target in TARGET_FIELDS:
        name = fieldrules.field_of(rt, TARGET_FIELDS[target], known)
    return name


def refused(actor, rt, columns: dict[str, str]) -> dict[str, str]:
    """{column: why it cannot be imported} for each column mapped to a field hidden from or read-only
    for ``actor``'s role; empty when the role has no rule on the type."""
    policy = policy_for(actor)
    hidden, read = policy.hidden_fields(rt.object_type), policy.read_only_fields(rt.object_type)
    if not (hidden or read):
        return {}
    known, labels = fieldrules.aliases(rt), fieldrules.restrictable(rt)
    out = {}
    for column, target in columns.items():
        name = field_of_target(rt, target, known) if target else None
        if name in hidden or name in read:
            rule = "hidden from" if name in hidden else "read-only for"
            out[column] = f"{labels.get(name, name)}: {rule} your role — this column cannot be imported."
    return out


def refuse(actor, rt, columns: dict[str, str]) -> None:
    """ValidationFailed listing every such column (``mapping.<column>``), before anything is written."""
    errors = refused(actor, rt, columns)
    if errors:
        listed = ", ".join(repr(c) for c in errors)
        message = f"Your role may not set the fields of some columns ({listed}): set them to “don't import”."
        raise ValidationFailed({f"mapping.{c}": m for c, m in errors.items()}, message)


def unmapped(actor, rt, columns: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A suggested mapping without the columns the role may not import, and {column: why}: what the
    import wizard proposes, so the user sees those columns listed rather than a refusal."""
    errors = refused(actor, rt, columns)
    return {c: "" if c in errors else t for c, t in columns.items()}, errors
