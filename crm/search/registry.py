"""What global search indexes for each record type, from the record-type declarations."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from crm.core import recordtypes


@dataclass(frozen=True)
class Searchable:
    model: type
    code: int  # part of the index row id: object_id * 16 + code
    text: Callable[[object], list[str]]
    name_field: str = "name"
    prefetch: tuple[str, ...] = ()


def searchables() -> dict[str, Searchable]:
    """The types global search indexes: those whose declaration (crm/*/recordtypes.py) has a search."""
    types = tuple(rt for rt in recordtypes.all_types() if rt.search is not None)
    if _CACHE.get("types") != types:
        _CACHE["types"] = types
        _CACHE["entries"] = {
            rt.object_type: Searchable(
                rt.model, rt.search.code, rt.search.text, rt.search.name_field, rt.search.prefetch
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


def row_id(entry: Searchable, object_id: int) -> int:
    return object_id * 16 + entry.code
