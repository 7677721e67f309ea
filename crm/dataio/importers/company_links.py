"""The company a contact row names (its Company / Organization column): found case- and
accent-insensitively through the search index's folded names, or by domain when the cell is a web
address; created once per run when the import asks for it (``create_companies``).

A dry run's chunk is rolled back, companies created in it included: ``rolled_back()`` forgets their
ids (the next chunk creates them again, inside its own rolled-back transaction) but not that they were
counted, so a dry run counts each new company once, as the real run creates it once.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models.functions import Lower

from crm.core.errors import ServiceError
from crm.core.normalize import InvalidValue, normalize_domain
from crm.records.models import Company, CompanyDomain
from crm.records.services.companies import company_create
from crm.search.registry import fold

CACHE_LIMIT = 10_000
# "acme.com", "www.acme.com", "https://www.acme.com/about": one word, dots, a letter top-level domain.
WEB_ADDRESS = re.compile(r"^(?:https?://)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,63}\.?(?:[:/?#]\S*)?$", re.I)


def domain_of(value: str) -> str | None:
    """The domain of a cell that looks like a web address, else None."""
    if not WEB_ADDRESS.match(value):
        return None
    try:
        return normalize_domain(value)
    except InvalidValue:
        return None


class CompanyLinks:
    """Company lookups (and creations) of one import run, cached across rows and chunks."""

    def __init__(self, actor, create: bool = False):
        self.actor, self.create = actor, create
        self.by_name: dict[str, int | None] = {}  # folded name -> company id (None: none visible)
        self.by_domain: dict[str, int | None] = {}
        self.counted: set[int] = set()  # hashes of the names created (or, in a dry run, to be) this run
        self.new: list[int] = []  # ids of the companies created in the current chunk
        self.failed: set[str] = set()  # values whose company could not be created (warned, not retried)

    @property
    def created(self) -> int:
        return len(self.counted)

    # -- lookups ------------------------------------------------------------------------------------

    def prime(self, values: set[str]) -> None:
        """Read the companies a chunk's cells name in two indexed queries, before its rows."""
        if len(self.by_name) + len(values) > CACHE_LIMIT or len(self.by_domain) + len(values) > CACHE_LIMIT:
            self.by_name.clear()
            self.by_domain.clear()
        domains = {d for d in map(domain_of, values) if d and d not in self.by_domain}
        wanted = {fold(v): v for v in values if fold(v) and fold(v) not in self.by_name}
        if domains:
            pairs = CompanyDomain.objects.filter(domain__in=domains).values_list("domain", "company_id")
            self.by_domain.update(dict.fromkeys(domains))
            self.by_domain.update(self._oldest_visible(pairs))
        if wanted:
            found = self._oldest_visible(self._name_pairs(wanted))
            missing = {wanted[k].lower(): k for k in wanted if k not in found}
            if missing:  # a company the search index does not hold (not written by a service): its exact name
                pairs = (
                    Company.objects.annotate(lname=Lower("name"))
                    .filter(lname__in=list(missing))
                    .values_list("lname", "pk")
                )
                found.update(self._oldest_visible((missing[lname], pk) for lname, pk in pairs))
            self.by_name.update(dict.fromkeys(wanted))
            self.by_name.update(found)

    def _name_pairs(self, keys) -> list[tuple[str, int]]:
        keys = list(keys)
        marks = ", ".join(["%s"] * len(keys))
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT name_key, object_id FROM search_name WHERE kind = %s AND name_key IN ({marks})",
                [Company.object_type, *keys],
            )
            return cur.fetchall()

    def _oldest_visible(self, pairs) -> dict[str, int]:
        """(key, company id) -> key: the lowest id among the companies the user sees."""
        pairs = list(pairs)
        visible = set(
            Company.objects.restrict(self.actor).filter(pk__in={pk for _, pk in pairs}).values_list("pk", flat=True)
        )
        found: dict[str, int] = {}
        for key, pk in pairs:
            if pk in visible and (key not in found or pk < found[key]):
                found[key] = pk
        return found

    def find(self, value: str) -> int | None:
        domain = domain_of(value)
        key = fold(value)
        if (domain and domain not in self.by_domain) or (key and key not in self.by_name):
            self.prime({value})
        found = self.by_domain.get(domain) if domain else None
        return found if found is not None else self.by_name.get(key) if key else None

    # -- the row's company ------------------------------------------------------------------------------

    def company(self, value: str, warnings: list[str]) -> int | None:
        """The id of the company ``value`` names (a name or a web address), created if asked; else a warning."""
        found = self.find(value)
        if found is not None:
            return found
        if not self.create or value.lower() in self.failed:
            warnings.append(f"No company named {value!r}; the contact is saved without one.")
            return None
        return self._create(value, warnings)

    def _create(self, value: str, warnings: list[str]) -> int | None:
        domain, key = domain_of(value), fold(value)
        # "Booking.com" keeps its spelling as the name; "https://www.acme.com/about" is named by its domain.
        data = {"name": value if domain is None or "/" not in value else domain}
        if domain:
            data["domain"] = domain
        try:
            pk = company_create(actor=self.actor, data=data).obj.pk
        except ServiceError as exc:
            problem = "; ".join(str(v) for v in (exc.fields or {}).values()) or exc.message
            warnings.append(f"Company {value!r} could not be created ({problem}); the contact is saved without one.")
            pk = None
            if len(self.failed) < CACHE_LIMIT:
                self.failed.add(value.lower())
        else:
            self.new.append(pk)
            self.counted.add(hash(domain or key))
        if key:
            self.by_name[key] = pk
        if domain:
            self.by_domain[domain] = pk
        return pk

    def take_new(self) -> list[int]:
        """The companies created since the last call (the chunk's), to record with the batch."""
        new, self.new = self.new, []
        return new

    def rolled_back(self) -> None:
        """The chunk was rolled back (a dry run): forget the ids of the companies it created."""
        gone = set(self.take_new())
        for cache in (self.by_name, self.by_domain):
            for key in [k for k, pk in cache.items() if pk in gone]:
                del cache[key]
