"""``{% win_probability obj %}`` on a deal's page: its predicted win probability and the reasons that
moved it most (or the stage probability when no model is in use); ``{% conversion_probability obj %}``
on a lead's page: its conversion probability, reasons and part of the lead score;
``user|may_predict_settings`` for the account menu's link to the settings page."""

from __future__ import annotations

from django import template

from crm.core.errors import PermissionDenied
from crm.predict import access, leads_scoring, scoring

register = template.Library()


@register.inclusion_tag("predict/deal_score.html", takes_context=True)
def win_probability(context, deal):
    try:
        score = scoring.as_dict(context["request"].user, deal)  # the page shows only deals the user sees
    except PermissionDenied:
        score = None
    if score is not None:
        score["percent"] = round(score["probability"] * 100)
    return {"score": score}


@register.inclusion_tag("predict/lead_score.html", takes_context=True)
def conversion_probability(context, lead):
    try:
        score = leads_scoring.as_dict(context["request"].user, lead)  # the page shows only leads the user sees
    except PermissionDenied:
        score = None
    if score is not None and score["probability"] is not None:
        score["percent"] = round(score["probability"] * 100)
    return {"score": score if score and score["probability"] is not None else None}


@register.filter
def may_predict_settings(user) -> bool:
    return access.is_manager(user)
