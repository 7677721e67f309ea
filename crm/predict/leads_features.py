"""What a lead looked like at an instant: the facts the lead-conversion model learns from, read in bulk
and as of a time, with the deal features' machinery (crm/predict/features.py: the instants in a
temporary table, one grouped query per figure joined to it).

Nothing later than a lead's instant is read: its own values (source, owner, company name) are rolled
back through the change log; activities count when they happened *and* were recorded by then; an
email's opens and clicks when they happened by then; the owner's conversion rate counts the owner's
leads closed before it. A lead's company is never its converted company (that would be the answer):
it is a company of the same name that existed at the instant, with its size and industry as now.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.db.models.expressions import RawSQL

from crm.audit.models import ObjectChange
from crm.forecast.asof import roll_back
from crm.predict.features import CAP_DAYS, KINDS, TABLE, OwnerRecord, _activities, _Cutoffs
from crm.records.models import ActivityLink, Company, Lead, LeadStatus

LEAD_FIELDS = ("id", "owner_id", "source", "company_name", "created_at")


def _leads_then(cut: _Cutoffs) -> dict[int, dict]:
    """Each lead's values at its instant: today's, rolled back through the change log."""
    listed = Lead.objects.filter(pk__in=RawSQL(f"SELECT deal_id FROM {TABLE}", []))
    current = {r["id"]: r for r in listed.values(*LEAD_FIELDS)}
    sql = (
        f"SELECT oc.object_id, oc.action, oc.changes FROM {ObjectChange._meta.db_table} oc "
        f"JOIN {TABLE} c ON c.deal_id = oc.object_id WHERE oc.object_type = %s AND oc.time > c.as_of "
        "ORDER BY oc.time, oc.id"
    )
    later: dict[int, list] = {}
    for object_id, action, changes in cut.rows(sql, [Lead.object_type]):
        later.setdefault(object_id, []).append((action, json.loads(changes) if isinstance(changes, str) else changes))
    out = {}
    for pk, row in current.items():
        then = roll_back(row, later.get(pk, [])) or dict(row)
        then["created_at"] = row["created_at"]  # never logged as a change
        out[pk] = then
    return out


def _engagement(cut: _Cutoffs) -> dict[int, tuple[int, int]]:
    """Per lead: (opens, clicks) of the mail linked to it, that happened by its instant."""
    from crm.mail.models import EngagementEvent, OutgoingEmail

    rows = cut.rows(
        f"""SELECT c.deal_id, SUM(CASE WHEN e.kind = 'open' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN e.kind = 'click' THEN 1 ELSE 0 END)
            FROM {TABLE} c JOIN {ActivityLink._meta.db_table} l ON l.record_type = %s AND l.record_id = c.deal_id
            JOIN {OutgoingEmail._meta.db_table} m ON m.activity_id = l.activity_id
            JOIN {EngagementEvent._meta.db_table} e ON e.email_id = m.id AND e.at <= c.as_of
            GROUP BY c.deal_id""",
        [Lead.object_type],
    )
    return {pk: (int(opens or 0), int(clicks or 0)) for pk, opens, clicks in rows}


def _companies(cut: _Cutoffs) -> dict[int, dict]:
    """Per lead: the company of its name that existed at its instant (the oldest), size and industry as now."""
    rows = cut.rows(
        f"""SELECT c.deal_id, co.id, co.size, co.industry FROM {TABLE} c
            JOIN {Lead._meta.db_table} l ON l.id = c.deal_id AND l.company_name <> ''
            JOIN {Company._meta.db_table} co ON LOWER(co.name) = LOWER(l.company_name) AND co.created_at <= c.as_of
            ORDER BY co.id DESC"""
    )
    return {pk: {"size": size or "", "industry": industry or ""} for pk, _id, size, industry in rows}


def closes() -> list[tuple[int, int | None, dt.datetime, dt.datetime, int]]:
    """(id, owner, created, closed, converted) of every closed lead, oldest close first. Converted:
    converted (at ``converted_at``) or qualified (it passed qualification, the step before conversion);
    not: disqualified. A qualified or disqualified lead closed when the change log recorded the status
    (its last update when no update set it, e.g. imported so)."""
    decided = (LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED)
    converted = Lead.objects.filter(converted_at__isnull=False)
    rows = [(pk, o, c, at, 1) for pk, o, c, at in converted.values_list("id", "owner_id", "created_at", "converted_at")]
    others = Lead.objects.filter(status__in=decided, converted_at__isnull=True)
    when: dict[int, dt.datetime] = {}
    for status in decided:
        logged = ObjectChange.objects.filter(
            object_type=Lead.object_type, action="update", object_id__in=others.values("pk"), changes__status__1=status
        )
        for pk, at in logged.values_list("object_id", "time"):
            when[pk] = max(at, when.get(pk, at))
    for pk, owner, created, updated, status in others.values_list(
        "id", "owner_id", "created_at", "updated_at", "status"
    ):
        rows.append((pk, owner, created, max(when.get(pk, updated), created), int(status == LeadStatus.QUALIFIED)))
    rows.sort(key=lambda r: (r[3], r[0]))
    return rows


def extract(cutoffs: dict[int, dt.datetime], closed=None) -> dict[int, dict]:
    """Each lead's facts at its instant; ``closed``: the rows of ``closes()`` when the caller has them."""
    if not cutoffs:
        return {}
    with _Cutoffs(cutoffs) as cut:
        leads = _leads_then(cut)
        acts, mail, companies = _activities(cut, Lead.object_type), _engagement(cut), _companies(cut)
    owners = OwnerRecord([(owner, at, won) for _pk, owner, _c, at, won in (closed if closed is not None else closes())])
    out = {}
    for pk, lead in leads.items():
        at = cutoffs[pk]
        a, company = acts.get(pk, {}), companies.get(pk, {})
        wins, closed_n = owners.before(lead["owner_id"], at)
        opens, clicks = mail.get(pk, (0, 0))
        out[pk] = {
            "source": lead["source"] or "",
            "size": company.get("size", ""),
            "industry": company.get("industry", ""),
            "known_company": bool(company),
            "age_days": max((at - lead["created_at"]).days, 0),
            **{kind: a.get(kind, 0) for kind in KINDS},
            "touches_30d": a.get("recent", 0),
            "days_since_touch": (at - a["last"]).days if a.get("last") else None,
            "opens": opens,
            "clicks": clicks,
            "owner_converted": wins,
            "owner_closed": closed_n,
        }
    return out


def vector(f: dict) -> dict:
    """The model's input for one lead's facts (names → numbers; text values become one column each)."""
    days_since = f["days_since_touch"] if f["days_since_touch"] is not None else f["age_days"]
    row = {
        "source": f["source"] or "none",
        "size": f["size"] or "none",
        "industry": f["industry"] or "none",
        "age_days": math.log1p(min(f["age_days"], CAP_DAYS * 3)),
        "touches_30d": math.log1p(f["touches_30d"]),
        "days_since_touch": math.log1p(min(days_since, CAP_DAYS)),
        "opens": math.log1p(f["opens"]),
        "clicks": math.log1p(f["clicks"]),
        # Smoothed towards one half, so an owner with two closed leads is not "100 %".
        "owner_rate": (f["owner_converted"] + 1) / (f["owner_closed"] + 2),
        "owner_closed": math.log1p(f["owner_closed"]),
    }
    for kind in KINDS:
        row[f"n_{kind}"] = math.log1p(f[kind])
    return row


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("ty") else f"{n} {word}s"


def phrase(group: str, f: dict, org: str) -> str:
    """The fact behind a group of a lead's features, as a rep would say it."""
    kinds = {"n_call": "call", "n_meeting": "meeting", "n_email": "email", "n_note": "note"}
    if group in kinds:
        return f"{_plural(f[kinds[group]], kinds[group])} so far"
    days = f["days_since_touch"]
    texts = {
        "source": lambda: f"source {f['source']}" if f["source"] else "no source",
        "industry": lambda: f"industry {f['industry']}" if f["industry"] else "industry unknown",
        "size": lambda: f"company size {f['size']}" if f["size"] else "company size unknown",
        "age_days": lambda: f"open for {_plural(f['age_days'], 'day')}",
        "touches_30d": lambda: f"{_plural(f['touches_30d'], 'activity')} in the last 30 days",
        "days_since_touch": lambda: (
            f"no activity for {_plural(days, 'day')}" if days is not None else "no activity yet"
        ),
        "opens": lambda: f"emails opened {_plural(f['opens'], 'time')}",
        "clicks": lambda: f"{_plural(f['clicks'], 'link')} clicked in emails",
        "owner_rate": lambda: f"owner converted {f['owner_converted']} of {f['owner_closed']} closed leads",
        "owner_closed": lambda: f"owner closed {_plural(f['owner_closed'], 'lead')} before",
    }
    return texts[group]() if group in texts else group
