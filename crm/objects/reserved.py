"""Names a custom object type's key or slug may not take: they would shadow a built-in type, a
permission or change-log key, or a path of the web app or the API."""

from __future__ import annotations

from functools import cache

from django.apps import apps
from django.urls import get_resolver

from crm.core import recordtypes

# Words the app uses for itself or will (settings pages, the generic /objects/ API of the next step).
WORDS = {"object", "objects", "user", "users", "team", "teams", "role", "roles", "setting", "settings"}
WORDS |= {"search", "api", "admin", "import", "imports", "export", "exports", "new", "static", "media"}
WORDS |= {"custom_field", "custom_fields", "custom-fields", "object_type", "object_types", "object-types"}


def reserved() -> set[str]:
    names = set(WORDS) | _url_segments() | _change_log_types()
    for rt in recordtypes.declared_types():  # custom types' keys and slugs are unique in their table
        names |= {rt.object_type, rt.slug}
    return names


@cache
def _url_segments() -> frozenset[str]:
    """The first segment of every web path, and of every API path under /api/v1/ (fixed once loaded)."""
    routes: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, route)
            else:
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    segments = {r.split("/")[0] for r in routes}
    segments |= {r.split("/")[2] for r in routes if r.startswith("api/v1/") and r.count("/") >= 2}
    return frozenset(s for s in segments if s and not s.startswith("<"))


def _change_log_types() -> set[str]:
    """The change-log types of objects that are not records (role, pipeline, ...): a record type's key
    would share their rows."""
    return {t for m in apps.get_models() if isinstance(t := getattr(m, "change_log_type", None), str)}
