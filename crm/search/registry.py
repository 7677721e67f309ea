"""What global search indexes for each record type, from the record-type declarations."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from crm.core import recordtypes

# An index row's id holds its record's type and id: object_id << KIND_BITS | the type's number
# (SearchKind). On SQLite the full-text table filters a type by its row ids, which is much cheaper than
# AND-ing with the doclist of a `kind:` term; a million types and ids up to 2**43 fit in 64 bits.
KIND_BITS = 20
KIND_MASK = (1 << KIND_BITS) - 1


@dataclass(frozen=True)
class Searchable:
    object_type: str
    model: type
    text: Callable[[object], list[str]]
    name_field: str = "name"
    prefetch: tuple[str, ...] = ()
    objects: Callable[[], object] | None = None  # the type's records (custom types share a model)
    pages: bool = True  # the web app has pages to open its hits (custom types: not yet)

    def records(self):
        return self.objects() if self.objects is not None else self.model.objects.all()

    @property
    def code(self) -> int:
        return code_of(self.object_type)


def searchables() -> dict[str, Searchable]:
    """The types global search indexes: those whose declaration (crm/*/recordtypes.py) has a search."""
    types = tuple(rt for rt in recordtypes.all_types() if rt.search is not None)
    if _CACHE.get("types") != types:
        _CACHE["types"] = types
        _CACHE["entries"] = {
            rt.object_type: Searchable(
                rt.object_type,
                rt.model,
                rt.search.text,
                rt.search.name_field,
                rt.search.prefetch,
                rt.objects,
                rt.pages,
            )
            for rt in types
        }
    return _CACHE["entries"]


_CACHE: dict = {}


def for_object(obj) -> Searchable | None:
    return searchables().get(getattr(obj, "object_type", ""))


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces: the same words for index and query."""
    text = text or ""
    if not text.isascii():  # ASCII has no accents to remove (bulk imports)
        text = unicodedata.normalize("NFKD", text).translate(_combining())
    text = text.lower()
    # Letters and digits only: "_" is punctuation too (both engines' tokenizers split on it).
    return " ".join(re.findall(r"[^\W_]+", text))


@cache
def _combining() -> dict[int, None]:
    """Every combining mark (accents, diacritics) to delete: str.translate drops them in C, the same
    characters a per-character unicodedata.combining() test drops."""
    return {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


_CODES: dict[str, int] = {}


def code_of(object_type: str) -> int:
    """The type's number in row ids, given the first time it is asked for (kept for good). Remembered in
    this process once the row that gives it is committed: a number given inside a transaction that
    rolls back is given again to the next type asking, and two types sharing one number overwrote each
    other's index rows (a quote's row replaced a product's)."""
    code = _CODES.get(object_type)
    if code is None:
        from django.db import transaction

        from crm.search.models import SearchKind

        code = SearchKind.objects.get_or_create(object_type=object_type)[0].pk
        if code > KIND_MASK:
            raise RuntimeError(f"The search index holds at most {KIND_MASK} record types.")
        transaction.on_commit(lambda: _CODES.__setitem__(object_type, code))
    return code


def row_key(object_type: str, object_id: int) -> int:
    return (object_id << KIND_BITS) | code_of(object_type)


def row_id(entry: Searchable, object_id: int) -> int:
    return row_key(entry.object_type, object_id)
