"""Search without the fields hidden from the reader (crm/access/fieldrules.py): the index holds every
searchable field's text for everyone, so a role that hides one of a type's fields gets that type's hits
checked again in Python against the record's search text with the hidden values blanked, and receives
the blanked copies (a hit's detail cannot show a hidden email or domain)."""

from __future__ import annotations

import copy
import difflib

from crm.access import fieldrules
from crm.core import recordtypes
from crm.search.registry import fold

# A word tolerated as a typo (PostgreSQL only, crm/search/backends.py) must be this close to a word of
# the visible text: about pg_trgm's default word-similarity threshold.
TYPO_RATIO = 0.6


def blanked(rt, obj, hidden: frozenset[str]):
    """A shallow display copy of ``obj`` with the ``hidden`` fields' values blanked (never saved)."""
    twin = copy.copy(obj)
    # The copy must not share the prefetched lists nor the related-object cache with the original.
    twin._prefetched_objects_cache = dict(getattr(obj, "_prefetched_objects_cache", {}))
    twin._state = copy.copy(obj._state)
    twin._state.fields_cache = dict(obj._state.fields_cache)
    fieldrules.blank(rt, twin, hidden)
    return twin


def finds(texts: list[str], words: list[str], *, phrase: bool = False, fuzzy: bool = False) -> bool:
    """Whether the query ``words`` (folded) match ``texts`` as the index matches them: every word as the
    prefix of a word of the text; ``phrase``: the words in this order, the last as a prefix; ``fuzzy``:
    a word may instead be a near miss of a text word."""
    tokens = fold(" ".join(t for t in texts if t)).split()
    if phrase:
        n = len(words)
        return any(
            tokens[i : i + n - 1] == words[:-1] and tokens[i + n - 1].startswith(words[-1])
            for i in range(len(tokens) - n + 1)
        )
    return all(any(t.startswith(w) or (fuzzy and _close(w, t)) for t in tokens) for w in words)


def _close(word: str, token: str) -> bool:
    return difflib.SequenceMatcher(None, word, token[: len(word) + 2]).ratio() >= TYPO_RATIO


def hidden_searchable(policy, object_type: str) -> frozenset[str]:
    """The fields of a type hidden from ``policy``'s role when one of them is in its search text (the
    declaration marks them ``searchable``); empty otherwise: the index alone answers then."""
    hidden = policy.hidden_fields(object_type)
    rt = recordtypes.by_type(object_type) if hidden else None
    if rt is None or not any(f.searchable and f.name in hidden for f in rt.fields):
        return frozenset()
    return hidden


def visible_hits(policy, object_type: str, text, objs: list, words: list[str], *, phrase: bool, fuzzy: bool) -> list:
    """Of ``objs`` (hits of one type), those the query finds by what the reader may see, as blanked
    copies; ``objs`` unchanged when the reader's role hides nothing of the type."""
    hidden = hidden_searchable(policy, object_type)
    if not hidden:
        return objs
    rt = recordtypes.by_type(object_type)
    out = []
    for obj in objs:
        twin = blanked(rt, obj, hidden)
        if finds(text(twin), words, phrase=phrase, fuzzy=fuzzy):
            out.append(twin)
    return out


def hidden_text_names(rt, policy) -> set[str]:
    """The ``?q=`` text fields (``ApiSpec.text_fields``, ORM paths) of a type that hold a hidden field."""
    hidden = policy.hidden_fields(rt.object_type)
    if not hidden:
        return set()
    out = set()
    for path in rt.api.text_fields:
        root, _, rest = path.partition("__")
        name = fieldrules.custom_name(rt, rest.partition("__")[0]) if root == "custom_fields" else None
        name = name or fieldrules.field_of(rt, root)
        if name in hidden:
            out.add(path)
    return out
