"""What an empty list says (issue #20, "empty states that teach"): what the list holds and what the user
can do first. The actions themselves (add, import) are offered by the list page only when the user's
role allows them; this module holds only the words."""

from __future__ import annotations

from crm.web.registry import Kind

ABOUT = {
    "company": "The organizations you sell to: their details, people, deals and the history with them.",
    "contact": "The people you talk to, each with their company, emails, phones and the timeline of calls, "
    "meetings and notes.",
    "lead": "People and companies who might buy, before they are qualified; convert one into a contact, "
    "company and deal.",
    "deal": "Sales in progress: an amount, a stage in a pipeline and an expected close date. The board shows "
    "them by stage.",
    "activity": "Calls, meetings, notes and emails logged on your records.",
    "task": "Things to do, with a due date and an assignee; My tasks shows yours by day.",
    "quote": "Priced offers sent to customers, version by version.",
    "product": "What you sell, with its SKU and prices per price book.",
    "price_book": "Prices of your products, per currency or customer group.",
    "order": "What customers bought: lines, totals and status.",
}


def about(kind: Kind) -> str:
    """One sentence on what the list holds: the built-in types' here, a custom type's own description."""
    if kind.object_type in ABOUT:
        return ABOUT[kind.object_type]
    if kind.run_time:
        described = (kind.type.extra["type"].description or "").strip()
        if described:
            return described
    return f"The {kind.plural} of your organization that you may see."
