"""The record-type registry: one declaration per type of record, read by everything else.

Each domain app declares its types in its own ``recordtypes.py`` (found when the apps load, as
Django's admin finds ``admin.py``). A declaration says once what a type is: its model, names, fields
and what each field is for (listed, filtered, sorted, searched, imported, exported), the services that
write it, its permission key, its search text and which shared features it takes part in. The API,
the web pages, search, export, the change log, automation and the permission lists read it here;
none of them keeps a list of types of its own (docs/adding-a-record-type.md).

This module imports no domain app: a declaration points down at its app's models and services. The
types admins define at run time (crm/objects) come from a source that app names here; they are
RecordTypes too, read through ``all_types()``, ``by_type()``, ``by_slug()`` and ``of()``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import autodiscover_modules

log = logging.getLogger("crm.recordtypes")

# What a field holds, for filters and forms: the filter language's kinds (crm.core.filters); "multi" is
# a list of choices (a custom multi-choice field).
# "hashed": an encrypted text compared by its keyed hash (crm/customization/secrets.py), equality only.
KINDS = {"int", "decimal", "str", "bool", "date", "datetime", "choice", "multi", "uuid", "hashed"}


@dataclass(frozen=True)
class RecordField:
    name: str  # the API's and the filter language's name, and the attribute a list column shows
    kind: str
    label: str = ""
    lookup: str = ""  # the ORM path a filter compares (default: name)
    sort_path: str = ""  # the ORM path a sort orders by (default: name)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) for a choice field
    listed: bool = False  # a column of the web list
    filterable: bool = True  # ?name= on lists, exports, saved views and rule conditions
    sortable: bool = False
    searchable: bool = False  # part of the record's search text (the declaration's search.text says how)
    importable: bool = False
    exportable: bool = True
    required: bool = False
    read_only: bool = False
    link: str = ""  # the id of a linked record of this type (an activity's or task's generic links)
    # A number's bounds: the services refuse a value outside them (bounds.py), the forms render them.
    min_value: int | None = None
    max_value: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Field {self.name!r}: unknown kind {self.kind!r}; one of {sorted(KINDS)}.")

    @property
    def filter_lookup(self) -> str:
        return self.lookup or self.name

    @property
    def order_by(self) -> str:
        return self.sort_path or self.name


@dataclass(frozen=True)
class ApiSpec:
    """What the API needs beyond the fields: its schemas (until they are built from the fields) and
    how to load a page of records in a fixed number of queries."""

    out: type
    create_in: type
    update_in: type
    fast: Callable | None = None  # page of instances -> the out schema's dicts (crm/records/api/fast.py)
    default_sort: str = "-updated_at"
    select_related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()  # ?q= on a type global search does not index


@dataclass(frozen=True)
class SearchSpec:
    text: Callable[[object], list[str]]  # record -> the texts global search finds it by
    name_field: str = "name"
    prefetch: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonSpec:
    """The type's records are about a person (crm/privacy: subject access, erasure, the block list).

    Lookups are ORM paths compared with a normalized value (crm.core.normalize): an email in its
    lower-cased form, a phone in E.164 ("email", "emails__email", "custom_fields__work_email").
    ``anonymized``: the personal fields and what replaces each, as the data of the type's update service
    (a retention policy that anonymizes sends it)."""

    email_lookups: tuple[str, ...] = ()
    phone_lookups: tuple[str, ...] = ()
    anonymized: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RecordType:
    object_type: str  # "contact": the permission key, and the type in the change log, events and search
    slug: str  # "contacts": the API path and the web URL segment
    model: type
    singular: str
    plural: str
    fields: tuple[RecordField, ...]
    create: Callable  # create(*, actor, data) -> Saved
    update: Callable  # update(obj, *, actor, data, version) -> Saved
    delete: Callable  # delete(obj, *, actor, version) -> None
    api: ApiSpec
    search: SearchSpec | None = None
    owner_field: str = "owner"  # the user a record belongs to (tasks: "assignee")
    pages: bool = True  # web list, detail and form pages
    detail_related: tuple[str, ...] = ()  # the foreign keys a record's page shows, loaded with it
    timeline: bool = False  # activities and tasks link to it; its page shows a timeline
    triggers: bool = True  # automation rules can fire on its changes
    extra: dict = field(default_factory=dict)
    # The type's rows when its model holds other types' too (custom objects share one table); None:
    # every row of the model.
    rows: Callable[[], object] | None = None
    run_time: bool = False  # defined by admins at run time (crm/objects), not declared in code
    # Dotted paths (the core imports no app): the web form class and the file importer class of the
    # type. Empty: the generic ones built from the fields (crm/web, crm/dataio), or none for an importer
    # when no field is importable.
    form: str = ""
    importer: str = ""
    # A dotted path to the type's duplicate spec (crm.dataio.duplicates.DuplicateSpec: how its likely
    # duplicates are found and how two of them merge); empty: no duplicates page, scan or merge.
    duplicates: str = ""
    tags: bool = False  # its records carry tags (a ``tags`` relation): tag filters, bulk tagging, add_tag
    person: PersonSpec | None = None  # its records name a person: found, exported and erased by crm/privacy
    # The model's columns that are no field (column -> why): bookkeeping no user reads or sets as such.
    # Every other column is a field, so a role's field rule can name it (tests/test_registry_columns.py).
    internal: dict[str, str] = field(default_factory=dict)

    def objects(self):
        """A queryset of the type's records (any owner): read through this, not ``model.objects``."""
        return self.rows() if self.rows is not None else self.model.objects.all()

    def restricted(self, user, action: str = "view"):
        """The type's records ``user`` may ``action`` (the role's grant and scope)."""
        return self.objects().restrict(user, action)

    def visible_ids(self, policy, action: str = "view"):
        """A subquery of the ids of the records the policy's scope reaches, or None when it reaches
        all of them (a link filter then needs no subquery)."""
        qs = self.objects()
        visible = qs.model.visibility_q(policy, action)
        return None if visible is None else qs.filter(visible).values("pk")

    def get_field(self, name: str) -> RecordField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def sorts(self) -> dict[str, str]:
        """Sort name -> ORM path, for ``sort=`` on lists."""
        return {f.name: f.order_by for f in self.fields if f.sortable}

    @property
    def label(self) -> str:
        return self.plural.capitalize()


# The columns every RecordModel has that are no field: the version is the edit token (sent as the
# record's ``version``, checked on every update), and the custom values are fields of their own
# (``cf_<key>``), each named by a rule.
RECORD_MODEL_INTERNAL = {
    "version": "the optimistic-locking token, not data",
    "custom_fields": "its keys are fields of their own (cf_<key>)",
}

_TYPES: dict[str, RecordType] = {}  # by object_type, in declaration order
_SLUGS: dict[str, RecordType] = {}


def register(rt: RecordType) -> RecordType:
    """Add a type; declaring the same object type or slug twice is a programming error."""
    for key, table in ((rt.object_type, _TYPES), (rt.slug, _SLUGS)):
        if key in table and table[key] is not rt:
            raise ValueError(f"Record type {key!r} is declared twice.")
    _TYPES[rt.object_type] = rt
    _SLUGS[rt.slug] = rt
    return rt


def unregister(object_type: str) -> None:
    """Remove a type (tests that declare one of their own)."""
    rt = _TYPES.pop(object_type, None)
    if rt is not None:
        _SLUGS.pop(rt.slug, None)


def discover() -> None:
    """Import every installed app's recordtypes.py (CoreConfig.ready)."""
    autodiscover_modules("recordtypes")


def all_types() -> list[RecordType]:
    """The declared types, then those defined at run time (archived ones included: still readable)."""
    run_time = _run_time()
    return [*_TYPES.values(), *run_time["types"].values()] if run_time["types"] else list(_TYPES.values())


def declared_types() -> list[RecordType]:
    """The types declared in code only: what is fixed when the process starts (the per-type API routes)."""
    return list(_TYPES.values())


def by_type(object_type: str) -> RecordType | None:
    return _TYPES.get(object_type) or _run_time()["types"].get(object_type)


def by_slug(slug: str) -> RecordType | None:
    return _SLUGS.get(slug) or _run_time()["slugs"].get(slug)


def of(obj) -> RecordType | None:
    """The type of a record instance."""
    return by_type(getattr(obj, "object_type", ""))


def object_types() -> tuple[str, ...]:
    return tuple(rt.object_type for rt in all_types())


# The fields users add to a type at run time (custom fields) come from the app that stores them: it
# names its source when it loads (CustomizationConfig.ready), so the core never imports it.
_CUSTOM_FIELD_KINDS: list[Callable[[str], dict[str, str]]] = []


def provide_custom_fields(source: Callable[[str], dict[str, str]]) -> None:
    """``source(object_type)`` -> {key: filter kind} of the type's custom fields."""
    if source not in _CUSTOM_FIELD_KINDS:
        _CUSTOM_FIELD_KINDS.append(source)


def custom_field_kinds(object_type: str) -> dict[str, str]:
    """{key: filter kind} of the custom fields defined on a type (kinds as crm.core.filters reads them,
    plus "multi" for a list of choices and "money" for an amount with its currency)."""
    kinds: dict[str, str] = {}
    for source in _CUSTOM_FIELD_KINDS:
        kinds.update(source(object_type))
    return kinds


# Types admins define at run time (crm/objects) are rows, not declarations: the app that stores them
# names a source here (ObjectsConfig.ready), so the core never imports it. Building them reads the
# database, so they are kept per process and rebuilt when the source's generation (a stamp that every
# definition write changes) differs: checked at most every RECORD_TYPES_RECHECK_SECONDS, and at once
# after this process changed a definition (``run_time_types_changed``).


@dataclass(frozen=True)
class RunTimeTypes:
    generation: Callable[[], Hashable]  # cheap; None while the tables do not exist (during migrate)
    build: Callable[[], list[RecordType]]  # every type defined now, archived ones included


_RUN_TIME: dict = {"source": None, "types": {}, "slugs": {}, "stamp": None, "checked": None}


def provide_run_time_types(source: RunTimeTypes) -> None:
    _RUN_TIME["source"] = source
    run_time_types_changed()


def run_time_types_changed() -> None:
    """Rebuild on the next read (this process wrote a definition, or a test rolled back); until then
    the types built before are out of date, so none are kept."""
    _RUN_TIME.update(types={}, slugs={}, checked=None, stamp=object())  # a stamp equal to no generation


def _run_time() -> dict:
    state, source = _RUN_TIME, _RUN_TIME["source"]
    now = time.monotonic()
    recheck = getattr(settings, "RECORD_TYPES_RECHECK_SECONDS", 2)
    if source is None or (state["checked"] is not None and now - state["checked"] < recheck):
        return state
    state["checked"] = now
    try:
        stamp = source.generation()
    except Exception:  # read everywhere: a failed read (a broken connection) keeps the types built before
        log.warning("Could not read the generation of the custom record types; keeping the last ones.", exc_info=True)
        return state
    if stamp != state["stamp"]:
        types = [rt for rt in (source.build() if stamp is not None else []) if rt.object_type not in _TYPES]
        # One update, so a thread reading meanwhile never sees new types with old slugs.
        state.update(
            types={rt.object_type: rt for rt in types},
            slugs={rt.slug: rt for rt in types if rt.slug not in _SLUGS},
            stamp=stamp,
        )
    return state


def known_types() -> tuple[str, ...]:
    """What a permission or a custom field may name: every type, declared or defined at run time."""
    return object_types()


def declared(object_type: str) -> bool:
    """Whether the type is declared in code (built-in), not defined at run time."""
    return object_type in _TYPES


def record_queryset(object_type: str, user=None, action: str = "view"):
    """Every record of a type (any owner), or only those ``user`` may ``action`` when a user is given;
    None for an unknown type."""
    rt = by_type(object_type)
    if rt is None:
        return None
    return rt.objects() if user is None else rt.restricted(user, action)


def slug_of(object_type: str) -> str | None:
    rt = by_type(object_type)
    return rt.slug if rt else None
