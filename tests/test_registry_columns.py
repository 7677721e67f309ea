"""Every column of a declared type's model is either a registry field (so a role's field rule can name
it, and every entry point that reads the registry treats it alike) or listed as internal with a reason
(``RecordType.internal``, ``recordtypes.RECORD_MODEL_INTERNAL``). A model that gains a column fails
here until its declaration says which it is."""

from __future__ import annotations

import dataclasses

from crm.access import fieldrules
from crm.core import recordtypes


def undeclared(rt) -> set[str]:
    """The model's columns no field of the type holds (by name, ``<name>_id`` or a lookup's root)."""
    known = fieldrules.aliases(rt)
    return {f.name for f in rt.model._meta.concrete_fields if f.name not in known and f.attname not in known}


def test_every_column_is_a_field_or_internal_with_a_reason():
    problems = []
    for rt in recordtypes.declared_types():
        internal = {**recordtypes.RECORD_MODEL_INTERNAL, **rt.internal}
        for column in sorted(undeclared(rt) - set(internal)):
            problems.append(
                f"{rt.object_type}.{column}: declare it as a RecordField, or list it in the declaration's "
                "`internal` with the reason no user sees or sets it"
            )
        for column, reason in rt.internal.items():
            if not reason.strip():
                problems.append(f"{rt.object_type}.{column}: an internal column needs its reason")
    assert not problems, "\n".join(problems)


def test_internal_columns_are_real_and_not_declared():
    """A stale entry (a column since declared, renamed or removed) is a mistake too."""
    problems = []
    for rt in recordtypes.declared_types():
        columns = {f.name for f in rt.model._meta.concrete_fields}
        listed = set(rt.internal)
        for column in sorted(listed - columns):
            problems.append(f"{rt.object_type}.{column} is listed but the model has no such column")
        for column in sorted(listed - undeclared(rt)):
            if column in columns:
                problems.append(f"{rt.object_type}.{column} is a declared field and listed as internal")
    assert not problems, "\n".join(problems)


def test_a_column_no_field_holds_is_found():
    """The walk's own check: the test app's gadget without its serial field has one undeclared column."""
    gadget = recordtypes.by_type("gadget")
    bare = dataclasses.replace(gadget, fields=tuple(f for f in gadget.fields if f.name != "serial"))
    assert undeclared(bare) - set(recordtypes.RECORD_MODEL_INTERNAL) == {"serial"}
    assert undeclared(gadget) - set(recordtypes.RECORD_MODEL_INTERNAL) == set()
