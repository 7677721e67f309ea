"""Who may read and change whose commissions: the role's "commission" grant (crm/access AREAS) and its
scope. A rep (own scope) reads their own statements, a manager (team scope) their team's, an admin
everyone's. "change" (adjust, recalculate, assign a plan) never applies to one's own pay, admins
excepted. Plans are the organization's: admins only."""

from __future__ import annotations

from crm.access.policy import policy_for, require_admin
from crm.core.errors import NotFound, PermissionDenied

AREA = "commission"
PLANS = "commission plans"


def require_plans_admin(actor) -> None:
    require_admin(actor, PLANS)


def visible_rep_ids(actor, action: str = "view") -> frozenset[int] | None:
    """The reps whose commissions ``actor`` may ``action`` (None: everyone's); 403 without the grant."""
    policy = policy_for(actor)
    if not policy.allows(AREA, action):
        raise PermissionDenied(f"Your role may not {action} commissions.")
    return policy.visible_owner_ids()


def may(actor, action: str, rep_id: int) -> bool:
    try:
        require_rep(actor, rep_id, action)
    except (PermissionDenied, NotFound):
        return False
    return True


def require_rep(actor, rep_id: int, action: str = "view") -> None:
    """404 for a rep out of the actor's scope (as for records), 403 for a missing grant or own pay."""
    ids = visible_rep_ids(actor, action)
    if ids is not None and rep_id not in ids:
        if action != "view" and may(actor, "view", rep_id):
            raise PermissionDenied(f"You may not {action} this rep's commissions.")
        raise NotFound(f"No commissions of user {rep_id} for you.")
    if action != "view" and action != "export" and rep_id == actor.pk and not policy_for(actor).is_admin:
        raise PermissionDenied("Nobody changes their own commissions; ask your manager or an admin.")


# The record field a deal's or order's line takes its base from. A reader whose role hides that field
# sees each such line's commission (their pay) without the record's amount (original and base); the
# totals stay, so a statement of one line still lets its credited total tell the base (documented).
AMOUNT_FIELDS = {"deal": "amount", "order": "total"}


def readable_lines(actor, statement) -> list:
    """The statement's lines as ``actor`` may read them: display copies (never saved) with the amounts
    of the records whose amount field ``actor``'s role hides left empty."""
    policy = policy_for(actor)
    hidden = {t for t, name in AMOUNT_FIELDS.items() if name in policy.hidden_fields(t)}
    lines = list(statement.lines.order_by("position"))
    for line in lines:
        if line.source_type in hidden:
            line.original_amount = line.base_amount = None
            line.original_currency = ""
    return lines


def may_assign(actor) -> bool:
    """Admins, and roles that may change (some) reps' commissions: managers."""
    return policy_for(actor).allows(AREA, "change")
