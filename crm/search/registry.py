"""Which models are searchable and what text each contributes; apps declare it in their search.py."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Searchable:
    model: type
    code: int  # part of the index row id: object_id * 16 + code
    text: Callable[[object], list[str]]
    name_field: str = "name"
    prefetch: tuple[str, ...] = ()


_REGISTRY: dict[str, Searchable] = {}


def register(model, *, code: int, text, name_field: str = "name", prefetch: tuple[str, ...] = ()) -> None:
    _REGISTRY[model.object_type] = Searchable(model, code, text, name_field, prefetch)


def searchables() -> dict[str, Searchable]:
    return _REGISTRY


def for_object(obj) -> Searchable | None:
    return _REGISTRY.get(getattr(obj, "object_type", ""))


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
