"""Find likely duplicate contacts and companies, as scored pairs, without comparing everyone to everyone.

Blocking: records are only compared inside small blocks that share something cheap to index:
the same normalized email, E.164 phone or domain (exact evidence, found with one grouped query each),
or the same name key (the first letters of a contact's last name or a company's name; a contact's
company) for the fuzzy name comparison. Blocks are read in key order from the database and scored
one at a time, so memory holds one block, not the table. Oversized blocks (a thousand "Smith"s) are
compared in windows of neighbours by name, so cost stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Count
from django.db.models.functions import Lower, Substr
from rapidfuzz import fuzz, process

from crm.records.models import Company, CompanyDomain, Contact, ContactEmail, ContactPhone

NAME_CUTOFF = 85  # token-sort ratio at or above which two names count as the same
WINDOW = 50  # in a big block each record is compared with its next WINDOW neighbours by name
KEY_LETTERS = 3
WEIGHTS = {"email": 60, "phone": 40, "domain": 60, "same_company": 10}
NAME_WEIGHT = 0.5  # a perfect name match adds 50
COMPANY_SUFFIXES = re.compile(r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|corporation|co)\b\.?")


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
    def add(self, a: int, b: int, reason: str, value: int = 1) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        pair = self.get(key) or self.setdefault(key, Pair(*key))
        pair.reasons[reason] = max(pair.reasons.get(reason, 0), value)


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
        block = sorted((n, pk) for n, pk in ((normalize(name), pk) for _, pk, name in group) if n)
        names = [n for n, _ in block]
        for i, (name, pk) in enumerate(block[:-1]):
            others = names[i + 1 : i + 1 + WINDOW]
            found = process.extract(name, others, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF, limit=None)
            for _, score, j in found:
                pairs.add(pk, block[i + 1 + j][1], "name", round(score))
                if also:
                    pairs.add(pk, block[i + 1 + j][1], also)


def person_name(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (text or "").lower()).split())


def company_name(text: str) -> str:
    return " ".join(COMPANY_SUFFIXES.sub(" ", person_name(text)).split())


def contact_pairs(user) -> Pairs:
    pairs = Pairs()
    visible = Contact.objects.restrict(user)
    ids = visible.values("pk")
    _exact(pairs, ContactEmail, "email", "contact", ids, "email")
    _exact(pairs, ContactPhone, "number", "contact", ids, "phone")
    by_last = (
        visible.exclude(last_name="")
        .annotate(key=Lower(Substr("last_name", 1, KEY_LETTERS)))
        .order_by("key", "pk")
        .values_list("key", "pk", "name")
    )
    _fuzzy(pairs, by_last.iterator(chunk_size=5000), person_name)
    by_company = (
        visible.filter(company__isnull=False).order_by("company_id", "pk").values_list("company_id", "pk", "name")
    )
    _fuzzy(pairs, by_company.iterator(chunk_size=5000), person_name, also="same_company")
    return pairs


def company_pairs(user) -> Pairs:
    pairs = Pairs()
    visible = Company.objects.restrict(user)
    _exact(pairs, CompanyDomain, "domain", "company", visible.values("pk"), "domain")
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


FINDERS = {"contacts": (Contact, contact_pairs), "companies": (Company, company_pairs)}


def find(user, object_type: str, *, min_score: int = 45, limit: int = 100) -> list[dict]:
    """The best-scored candidate pairs among the records ``user`` may see, best first."""
    model, finder = FINDERS[object_type]
    found = sorted((p for p in finder(user).values() if p.score >= min_score), key=lambda p: (-p.score, p.a, p.b))[
        :limit
    ]
    names = dict(model.objects.filter(pk__in={i for p in found for i in (p.a, p.b)}).values_list("pk", "name"))
    return [
        {
            "a": {"id": p.a, "name": names.get(p.a, "")},
            "b": {"id": p.b, "name": names.get(p.b, "")},
            "score": p.score,
            "reasons": p.reasons,
        }
        for p in found
    ]
