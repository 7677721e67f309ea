"""Quotas from a CSV file: preview, then all or nothing.

Columns (header names, any order, case-insensitive): ``period`` (2026-05, FY2026-Q2, FY2026), ``user``
(a username or email) or ``team`` (a team's name), ``amount``, and optionally ``deal_count`` and
``rolls_up`` (yes/no, teams only). Every row is checked before any is written; one bad row and
nothing is written, with a message per problem naming ``rows.<line>.<column>`` (line 1 is the header).
The writes go through ``quotas.quota_set``, so the permission rules and the change log are the same.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from crm.access.models import Team
from crm.core.errors import ServiceError, ValidationFailed
from crm.forecast import periods, quotas
from crm.forecast.categories import fiscal_year_start
from crm.forecast.models import Quota

MAX_ROWS = 5000
MAX_CHARS = 1_000_000
COLUMNS = ("period", "user", "team", "amount", "deal_count", "rolls_up")
TRUE, FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


def _read(text: str) -> list[tuple[int, dict]]:
    if len(text) > MAX_CHARS:
        raise ValidationFailed({"csv": f"The file is larger than {MAX_CHARS:,} characters; split it."})
    if "\x00" in text:
        raise ValidationFailed({"csv": "The file holds a NUL character: it is not CSV text."})
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        rows = [(i + 2, row) for i, row in enumerate(reader) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise ValidationFailed({"csv": f"The file is not valid CSV: {exc}."}) from None
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "period" not in header or "amount" not in header or not {"user", "team"} & set(header):
        need = "period, user or team, amount (deal_count and rolls_up optional)"
        extra = f"; unknown: {', '.join(unknown)}" if unknown else ""
        raise ValidationFailed({"csv": f"The header must name {need}{extra}."})
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"csv": f"At most {MAX_ROWS} rows at once."})
    if not rows:
        raise ValidationFailed({"csv": "The file has no rows under its header."})
    return [(line, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}) for line, row in rows]


def _parse(actor, line: int, row: dict, fy: int, errors: dict) -> dict | None:
    at = f"rows.{line}"
    out: dict = {"line": line}
    try:
        out["period"] = periods.parse(row["period"], fy)
    except ValidationFailed as exc:
        errors[f"{at}.period"] = exc.fields["period"]
    user, team = row.get("user", ""), row.get("team", "")
    if bool(user) == bool(team):
        errors[f"{at}.user"] = "Name a user or a team, not both."
    elif user:
        found = get_user_model().objects.filter(Q(username=user) | Q(email__iexact=user), is_active=True).first()
        if found is None:
            errors[f"{at}.user"] = f'No active user "{user}".'
        elif not quotas.may_write_user(actor, found.pk):
            errors[f"{at}.user"] = f"You may not set {user}'s quota."
        else:
            out["user_id"], out["name"] = found.pk, found.get_username()
    else:
        found = Team.objects.filter(name=team).first()
        if found is None:
            errors[f"{at}.team"] = f'No team "{team}".'
        elif not quotas.may_write_team(actor, found.pk):
            errors[f"{at}.team"] = f"You may not set team {team}'s quota."
        else:
            out["team_id"], out["name"] = found.pk, found.name
    rolls = row.get("rolls_up", "").lower()
    if rolls not in TRUE | FALSE:
        errors[f"{at}.rolls_up"] = "Write yes or no."
    out["rolls_up"] = rolls in TRUE
    if out["rolls_up"] and user:
        errors[f"{at}.rolls_up"] = "Only a team's quota rolls up from its members."
    out["amount"] = None
    if row.get("amount") or not out["rolls_up"]:
        try:
            out["amount"] = Decimal(row.get("amount", "").replace(",", ""))
            if not out["amount"].is_finite() or out["amount"] < 0 or out["amount"].as_tuple().exponent < -2:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[f"{at}.amount"] = f'"{row.get("amount", "")}" is not an amount (at least 0, two decimals at most).'
    count = row.get("deal_count", "")
    out["deal_count"] = None
    if count:
        if count.isdigit() and int(count) < 2**31:
            out["deal_count"] = int(count)
        else:
            errors[f"{at}.deal_count"] = f'"{count}" is not a whole number of deals.'
    return out


def quota_import(text: str, *, actor, preview: bool = False) -> list[dict]:
    """The parsed rows (with ``action``: create or update); written unless ``preview``."""
    fy = fiscal_year_start()
    errors: dict[str, str] = {}
    parsed = [_parse(actor, line, row, fy, errors) for line, row in _read(text)]
    seen: dict[tuple, int] = {}
    for p in parsed:
        if "period" in p and ("user_id" in p or "team_id" in p):
            key = (p.get("user_id"), p.get("team_id"), p["period"].key)
            if key in seen:
                errors[f"rows.{p['line']}.period"] = f"Line {seen[key]} sets the same quota."
            seen.setdefault(key, p["line"])
    if errors:
        raise ValidationFailed(errors, f"{len({k.split('.')[1] for k in errors if k != 'csv'})} rows have problems.")
    for p in parsed:
        owner = {"user_id": p["user_id"]} if "user_id" in p else {"team_id": p["team_id"]}
        exists = Quota.objects.filter(**owner, period_kind=p["period"].kind, period_start=p["period"].start).exists()
        p["action"] = "update" if exists else "create"
    if not preview:
        _write(parsed, actor)
    return parsed


@transaction.atomic
def _write(parsed: list[dict], actor) -> None:
    for p in parsed:
        owner = {"user_id": p["user_id"]} if "user_id" in p else {"team_id": p["team_id"]}
        try:
            quotas.quota_set(
                actor=actor,
                period=p["period"],
                amount=p["amount"],
                deal_count=p["deal_count"],
                rolls_up=p["rolls_up"],
                **owner,
            )
        except ServiceError as exc:  # a rule across fields (a user's quota rolling up): name the line
            fields = {f"rows.{p['line']}.{k}": v for k, v in exc.fields.items()} or {f"rows.{p['line']}": exc.message}
            raise ValidationFailed(fields) from None
