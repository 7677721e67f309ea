"""Find likely duplicate contacts and companies, as scored pairs, without comparing everyone to everyone.

Blocking: records are only compared inside small blocks that share something cheap to index:
the same normalized email, E.164 phone or domain (exact evidence, found with one grouped query each),
or the same name key (the first letters of a contact's last name or a company's name; a contact's
company) for the fuzzy name comparison. Blocks are read in key order from the database and scored
one at a time, so memory holds one block, not the table. Oversized blocks (a thousand "Smith"s) are
compared in windows of neighbours by name, so cost stays linear. Records with the very same name are
chained to the first of them (a pair each, not a pair per two of them), and only distinct names are
compared with each other, through their first records: a cluster of twenty "John Smith"s is merged
into one, then compared again. Pairs are kept as two machine integers each (ids packed into one, the
reasons as bits), so a million contacts cost megabytes, not gigabytes.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count
from django.db.models.functions import Lower, Substr
from django.utils.module_loading import import_string
from rapidfuzz import fuzz, process

from crm.access.policy import policy_for
from crm.core import recordtypes
from crm.core.errors import BadRequest
from crm.dataio import merge
from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, ContactPhone
from crm.records.services import companies as company_service

NAME_CUTOFF = 85  # token-sort ratio at or above which two names count as the same
WINDOW = 50  # in a big block each record is compared with its next WINDOW neighbours by name
KEY_LETTERS = 3
WEIGHTS = {"email": 60, "phone": 40, "domain": 60, "same_company": 10}
NAME_WEIGHT = 0.5  # a perfect name match adds 50
COMPANY_SUFFIXES = re.compile(r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|corporation|co)\b\.?")


REASON_BITS = {"email": 1 << 7, "phone": 1 << 8, "domain": 1 << 9, "same_company": 1 << 10}
NAME_MASK = (1 << 7) - 1  # the name score, 0-100, in the low bits
ID_BITS = 40


@dataclass
class Pair:
    a: int
    b: int
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def score(self) -> int:
        total = sum(WEIGHTS.get(r, 0) for r in self.reasons if r != "name")
        total += round(self.reasons.get("name", 0) * NAME_WEIGHT)
        return min(total, 100)


class Pairs(dict):
    """(a, b) packed into one int -> the reasons as bits: a few dozen bytes a pair."""

    def add(self, a: int, b: int, reason: str, value: int = 1) -> None:
        if a == b:
            return
        key = (a << ID_BITS | b) if a < b else (b << ID_BITS | a)
        bits = self.get(key, 0)
        if reason == "name":
            self[key] = (bits & ~NAME_MASK) | max(bits & NAME_MASK, value)
        else:
            self[key] = bits | REASON_BITS[reason]

    def pairs(self):
        mask = (1 << ID_BITS) - 1
        for key, bits in self.items():
            reasons = {r: 1 for r, bit in REASON_BITS.items() if bits & bit}
            if bits & NAME_MASK:
                reasons["name"] = bits & NAME_MASK
            yield Pair(key >> ID_BITS, key & mask, reasons)


def _shared(pairs: Pairs, rows, reason: str) -> None:
    """rows: (value, record id) ordered by value; every two records sharing a value are a pair."""
    for _, group in groupby(rows, key=lambda r: r[0]):
        ids = sorted({pk for _, pk in group})
        for i, a in enumerate(ids[:WINDOW]):
            for b in ids[i + 1 : WINDOW]:
                pairs.add(a, b, reason)


def _exact(pairs: Pairs, channel, column: str, owner: str, visible, reason: str) -> None:
    repeated = (
        channel.objects.filter(**{f"{owner}__in": visible})
        .values(column)
        .annotate(n=Count(owner, distinct=True))
        .filter(n__gt=1)
        .values(column)
    )
    rows = (
        channel.objects.filter(**{f"{owner}__in": visible, f"{column}__in": repeated})
        .order_by(column, owner)
        .values_list(column, owner)
        .iterator(chunk_size=5000)
    )
    _shared(pairs, rows, reason)


def _fuzzy(pairs: Pairs, rows, normalize, also: str | None = None) -> None:
    """rows: (block key, id, name) ordered by key; names compared within each block."""
    for _, group in groupby(rows, key=lambda r: r[0]):
        first: dict[str, int] = {}  # each distinct name -> its oldest record
        for _, pk, name in group:
            name = normalize(name)
            if not name:
                continue
            if name in first:  # the same name again: a pair with the first record of that name
                a, b = min(pk, first[name]), max(pk, first[name])
                first[name] = a
                pairs.add(a, b, "name", 100)
                if also:
                    pairs.add(a, b, also)
            else:
                first[name] = pk
        names = sorted(first)
        for i, name in enumerate(names[:-1]):
            others = names[i + 1 : i + 1 + WINDOW]
            found = process.extract(name, others, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF, limit=None)
            for other, score, _ in found:
                pairs.add(first[name], first[other], "name", round(score))
                if also:
                    pairs.add(first[name], first[other], also)


def person_name(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").lower()).split())


def company_name(text: str) -> str:
    return " ".join(COMPANY_SUFFIXES.sub(" ", person_name(text)).split())


# The field each reason compares: a reason whose field is hidden from the user is not used to match
# (two contacts "share an email" would tell what the role may not see), nor shown from an older scan.
REASON_FIELDS = {"email": "email", "phone": "phone", "domain": "domain", "same_company": "company"}


def _hidden(user, model) -> frozenset[str]:
    return policy_for(user).hidden_fields(model.object_type)


def shown_reasons(user, object_type: str, reasons: dict) -> dict:
    """``reasons`` without those that compare a field hidden from ``user``."""
    hidden = policy_for(user).hidden_fields(object_type)
    return {r: v for r, v in reasons.items() if REASON_FIELDS.get(r) not in hidden}


def contact_pairs(user) -> Pairs:
    pairs = Pairs()
    visible = Contact.objects.restrict(user)
    ids = visible.values("pk")
    hidden = _hidden(user, Contact)
    if "email" not in hidden:
        _exact(pairs, ContactEmail, "email", "contact", ids, "email")
    if "phone" not in hidden:
        _exact(pairs, ContactPhone, "number", "contact", ids, "phone")
    by_last = (
        visible.exclude(last_name="")
        .annotate(key=Lower(Substr("last_name", 1, KEY_LETTERS)))
        .order_by("key", "pk")
        .values_list("key", "pk", "name")
    )
    _fuzzy(pairs, by_last.iterator(chunk_size=5000), person_name)
    if "company" in hidden:
        return pairs
    by_company = (
        visible.filter(company__isnull=False).order_by("company_id", "pk").values_list("company_id", "pk", "name")
    )
    _fuzzy(pairs, by_company.iterator(chunk_size=5000), person_name, also="same_company")
    return pairs


def company_pairs(user) -> Pairs:
    pairs = Pairs()
    visible = Company.objects.restrict(user)
    hidden = _hidden(user, Company)
    if "domain" not in hidden:
        _exact(pairs, CompanyDomain, "domain", "company", visible.values("pk"), "domain")
    if "phone" not in hidden:
        phones = visible.exclude(phone="").values("phone").annotate(n=Count("pk")).filter(n__gt=1).values("phone")
        rows = visible.filter(phone__in=phones).order_by("phone", "pk").values_list("phone", "pk")
        _shared(pairs, rows.iterator(chunk_size=5000), "phone")
    by_name = (
        visible.annotate(key=Lower(Substr("name", 1, KEY_LETTERS)))
        .order_by("key", "pk")
        .values_list("key", "pk", "name")
    )
    _fuzzy(pairs, by_name.iterator(chunk_size=5000), company_name)
    return pairs


@dataclass(frozen=True)
class DuplicateSpec:
    """What a record type declares (``RecordType.duplicates``, a dotted path to one of these) to have
    its likely duplicates found, reviewed and merged."""

    finder: Callable  # user -> Pairs among the records the user may see
    merge: Callable  # merge(survivor, other, *, actor, choices) -> the survivor
    fields: tuple[str, ...]  # the fields a user chooses between on the merge page, in page order
    related: tuple[str, ...] = ()  # the foreign keys loaded with the records a page shows


CONTACTS = DuplicateSpec(
    contact_pairs,
    merge.contact_merge,
    # name is rebuilt from first and last name; consent (flag, time, source) moves as one choice.
    ("first_name", "last_name", "email", "phone", "title", "company", "owner", "lifecycle_stage", "source")
    + ("email_opt_in", "street", "city", "region", "postal_code", "country"),
    ("owner", "company"),
)
COMPANIES = DuplicateSpec(
    company_pairs,
    merge.company_merge,
    ("name", "domain") + tuple(f for f in company_service.FIELDS if f != "name"),
    ("owner", "parent"),
)


def spec_of(rt) -> DuplicateSpec | None:
    return import_string(rt.duplicates) if rt is not None and rt.duplicates else None


def with_duplicates() -> list:
    """The record types whose duplicates can be found and merged, from the registry."""
    return [rt for rt in recordtypes.all_types() if rt.duplicates]


def spoken(names: list[str], last: str = "or") -> str:
    """The types a message lists: "companies, contacts or people"."""
    return f" {last} ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def type_of(slug: str):
    """(record type, its duplicate spec) of the type at ``slug``; a BadRequest naming the types that
    have duplicates otherwise."""
    rt = recordtypes.by_slug(slug) if isinstance(slug, str) else None
    spec = spec_of(rt)
    if spec is None:
        known = spoken([t.slug for t in with_duplicates()]) or "none"
        raise BadRequest(f"Cannot find duplicates of {slug!r}.", fields={"type": f"{known}."})
    return rt, spec


def find(user, object_type: str, *, min_score: int = 45, limit: int = 100) -> list[dict]:
    """The best-scored candidate pairs among the records ``user`` may see, best first."""
    rt, spec = type_of(object_type)
    found = heapq.nsmallest(
        limit, (p for p in spec.finder(user).pairs() if p.score >= min_score), key=lambda p: (-p.score, p.a, p.b)
    )
    name = rt.search.name_field if rt.search else "name"
    names = dict(rt.objects().filter(pk__in={i for p in found for i in (p.a, p.b)}).values_list("pk", name))
    return [
        {
            "a": {"id": p.a, "name": names.get(p.a, "")},
            "b": {"id": p.b, "name": names.get(p.b, "")},
            "score": p.score,
            "reasons": p.reasons,
        }
        for p in found
    ]
