"""The keyboard shortcuts' targets, rendered into the shortcuts dialog (web/parts/shortcuts.html) so
static/web/keys.js reads URLs from the page instead of hard-coding paths, and offers only what the user
may do here: "g" + a letter for the menu's types they may see, "n" where they may add, "e" where they
may change the record."""

from __future__ import annotations

from django import template
from django.urls import reverse

from crm.access.policy import policy_for
from crm.web.registry import menu_kinds

register = template.Library()

# "g" then the letter: Companies, cOntacts, Deals, Leads, Tasks.
GOTO = (("c", "companies"), ("o", "contacts"), ("d", "deals"), ("l", "leads"), ("t", "tasks"))


@register.simple_tag(takes_context=True)
def shortcut_targets(context) -> dict:
    request = context["request"]
    policy = policy_for(request.user)
    kinds = {k.slug: k for k in menu_kinds(policy)}
    goto = [
        (letter, kinds[slug].plural, reverse("web:record-list", args=[slug])) for letter, slug in GOTO if slug in kinds
    ]
    page = getattr(request.resolver_match, "url_name", None)
    targets = {"goto": goto, "new": None, "edit": None}
    kind = context.get("kind")
    if page in ("record-list", "record-detail") and kind is not None:
        if not kind.archived and policy.allows(kind.object_type, "add"):
            targets["new"] = (kind.singular, reverse("web:record-create", args=[kind.slug]))
        obj, may = context.get("obj"), context.get("may") or {}
        if page == "record-detail" and obj is not None and may.get("change"):
            targets["edit"] = (str(obj), reverse("web:record-edit", args=[kind.slug, obj.pk]))
    elif page == "board" and "deals" in kinds and policy.allows("deal", "add"):
        targets["new"] = (kinds["deals"].singular, reverse("web:record-create", args=["deals"]))
    return targets
