"""Column widths of list pages: a user drags a column's edge (or moves it with the arrow keys) and the
width is kept for them, per list and per view of it (``ColumnWidths``). A view's widths are its own:
the list and the other views keep theirs. Only widths of columns the role may see are kept or shown;
``static/web/listtable.js`` applies them from the table's data attributes (the CSP allows no style
attributes in the HTML, but a script may set a style property)."""

from __future__ import annotations

from django.db import transaction

from crm.access.policy import policy_for
from crm.audit import configwrites
from crm.core import recordtypes
from crm.core.errors import PermissionDenied, ValidationFailed
from crm.web.models import ColumnWidths, SavedView
from crm.web.registry import Column

# Narrower than a sort arrow and a few letters is unreadable; wider than a wide screen is a slip.
MIN_WIDTH, MAX_WIDTH = 40, 1200


def stored(kind_slug: str, user, view: str, available: list[Column]) -> dict[str, int]:
    """The user's widths of a list (``view`` ""), or of one view of it; columns no longer available
    (a field removed, or hidden from the role) are left out."""
    row = ColumnWidths.objects.filter(owner_id=user.pk, kind=kind_slug, view=view or "").first()
    if row is None:
        return {}
    keys = {c.key for c in available}
    return {k: v for k, v in row.widths.items() if k in keys}


def parse(raw: str | None) -> dict[str, int]:
    """``name:240,email:180`` → {"name": 240, "email": 180}; a malformed pair is refused by name."""
    out: dict[str, int] = {}
    for pair in (p.strip() for p in (raw or "").split(",")):
        if not pair:
            continue
        key, _, value = pair.partition(":")
        try:
            out[key.strip()] = int(value)
        except ValueError:
            raise ValidationFailed({"widths": f"{pair!r} is not column:pixels."}) from None
    return out


def _check_view(actor, kind_slug: str, view: str, builtin_keys: set[str]) -> None:
    """A view the actor sees: one of the list's built-in ones, or a saved view of theirs or their team's."""
    if not view or view in builtin_keys:
        return
    from crm.web.saved_views import visible_views

    rt = recordtypes.by_slug(kind_slug)
    if not view.isdigit() or view not in {v.key for v in visible_views(rt, actor)}:
        raise ValidationFailed({"view": f"No view {view!r} of this list."})


def _check_widths(widths: dict[str, int], available: list[Column]) -> None:
    offered = {c.key for c in available}
    unknown = [k for k in widths if k not in offered]
    if unknown:
        raise ValidationFailed({"widths": f"No column {', '.join(unknown)} in this list."})
    wrong = [k for k, v in widths.items() if not MIN_WIDTH <= v <= MAX_WIDTH]
    if wrong:
        raise ValidationFailed(
            {"widths": f"A column is {MIN_WIDTH} to {MAX_WIDTH} pixels wide ({', '.join(wrong)} is not)."}
        )


@transaction.atomic
def widths_save(
    *, actor, kind_slug: str, view: str, widths: dict[str, int], available: list[Column], builtin_keys: set[str]
) -> ColumnWidths | None:
    """Keep ``widths`` as the actor's for the list or view (replacing what was kept); none: forget them."""
    rt = recordtypes.by_slug(kind_slug)
    if rt is None or not rt.pages:
        raise ValidationFailed({"kind": f"No list named {kind_slug!r}."})
    if not policy_for(actor).allows(rt.object_type, "view"):
        raise PermissionDenied(f"You may not view {rt.plural}.")
    view = view or ""
    _check_view(actor, kind_slug, view, builtin_keys)
    _check_widths(widths, available)
    row = ColumnWidths.objects.filter(owner_id=actor.pk, kind=kind_slug, view=view).first()
    if not widths:
        if row is not None:
            configwrites.delete(row, actor=actor)
        return None
    if row is None:
        return configwrites.create(ColumnWidths(owner=actor, kind=kind_slug, view=view, widths=widths), actor=actor)
    return configwrites.update(row, actor=actor, data={"widths": widths}, fields=("widths",))


def forget_view(view: SavedView, *, actor) -> None:
    """A deleted saved view takes everyone's widths of it along (called inside its delete)."""
    for row in ColumnWidths.objects.filter(kind=view.kind, view=str(view.pk)):
        configwrites.delete(row, actor=actor)
