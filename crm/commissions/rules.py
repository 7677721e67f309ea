"""The plan's arithmetic, as pure functions over Decimals (no database): tiers, category rates, the
words of the rule applied.

**Tiers are marginal** (like tax brackets). The base rate is tier 1, from 0 % of quota; each tier pays
its rate on the part of the rep's credited amount that lies between its threshold and the next tier's.
With quota 10,000, base 5 % and a tier at 100 % paying 8 %, credits of 10,000 then 2,000 earn 500 (all
of it below 100 %) then 160 (8 % of the 2,000 above). A credit that crosses a threshold is cut at it.
Credits are taken in the order they were won (date, then id), so which deal crosses the line is fixed.

**Category rates** replace the tiers for the part of a credit that comes from lines of products in
that category: that part is paid at the category's flat rate; it still counts toward attainment (it
moves the rep along the tiers for the credits after it). Within one credit the tiered part is placed
first, then the category parts.

Without a quota for the period there is no attainment: everything not at a category rate is paid the
base rate, and the rule says so."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@lru_cache(maxsize=4096)  # a plan has a handful of rates; formatting them per line was a third of the time
def pct(value: Decimal) -> str:
    """5 → "5 %", 7.50 → "7.5 %"."""
    text = f"{Decimal(value).normalize():f}"
    return f"{text} %"


def amount_text(value: Decimal) -> str:
    return f"{value:,.2f}"


@dataclass(frozen=True)
class Band:
    number: int  # 1 = the base rate
    lower: Decimal  # % of quota
    upper: Decimal | None  # % of quota; None: no upper bound
    rate: Decimal

    def words(self) -> str:
        if self.upper is None and self.lower == 0:
            return f"tier {self.number}: {pct(self.rate)}"
        if self.upper is None:
            return f"tier {self.number}: {pct(self.rate)} above {pct(self.lower)} of quota"
        if self.lower == 0:
            return f"tier {self.number}: {pct(self.rate)} up to {pct(self.upper)} of quota"
        return f"tier {self.number}: {pct(self.rate)} from {pct(self.lower)} to {pct(self.upper)} of quota"


def bands(base_rate: Decimal, tiers: list[tuple[Decimal, Decimal]]) -> list[Band]:
    """``tiers``: (threshold % of quota, rate) pairs above the base; a threshold of 0 replaces the base."""
    points = {Decimal(0): Decimal(base_rate)}
    for threshold, rate in tiers:
        points[Decimal(threshold)] = Decimal(rate)
    ordered = sorted(points.items())
    out = []
    for i, (lower, rate) in enumerate(ordered):
        upper = ordered[i + 1][0] if i + 1 < len(ordered) else None
        out.append(Band(i + 1, lower, upper, rate))
    return out


@dataclass(frozen=True)
class Piece:
    amount: Decimal
    rate: Decimal
    words: str

    @property
    def commission(self) -> Decimal:
        return self.amount * self.rate / HUNDRED


def tiered(amount: Decimal, start: Decimal, quota: Decimal | None, plan_bands: list[Band]) -> list[Piece]:
    """The pieces of a credit of ``amount`` that begins at ``start`` (the rep's credited amount before
    it), each at its band's rate. A negative amount (a credit note) is paid back at the band it ends in."""
    return [Piece(*part) for part in Ladder(quota, plan_bands).parts(amount, start)]


class Ladder:
    """A plan's bands at one rep's quota, their bounds and words worked out once: ``parts`` cuts a credit
    as ``tiered`` says, ``price`` gives what a credit's pieces pay and their words without building the
    pieces (a statement prices thousands of credits with the same ladder)."""

    def __init__(self, quota: Decimal | None, plan_bands: list[Band]):
        self.quota, self.bands = quota, plan_bands
        self.flat = quota is None or quota <= 0
        base = plan_bands[0]
        note = "base rate" if len(plan_bands) == 1 else "base rate; no quota for the period, so no tiers"
        self.base = (base.rate, f"{note}: {pct(base.rate)}")
        self.words = {band.number: band.words() for band in plan_bands}
        if not self.flat:
            self.steps = [
                (quota * b.lower / HUNDRED, None if b.upper is None else quota * b.upper / HUNDRED, b.rate, b.words())
                for b in plan_bands
            ]

    def parts(self, amount: Decimal, start: Decimal) -> list[tuple[Decimal, Decimal, str]]:
        """(amount, rate, words) of each piece, in band order."""
        if self.flat:
            return [(amount, *self.base)]
        if amount <= 0:
            band = _band_at(start + amount, self.quota, self.bands)
            return [(amount, band.rate, self.words[band.number])]
        out, end = [], start + amount
        for low, high, rate, words in self.steps:
            part = min(end, high if high is not None else end) - max(start, low)
            if part > 0:
                out.append((part, rate, words))
        return out

    def price(self, amount: Decimal, start: Decimal) -> tuple[Decimal, str]:
        """(the sum of the pieces' commissions, unrounded: the value ``sum(p.commission ...)`` gives, the
        Decimal arithmetic being exact; the words, as ``describe`` gives them)."""
        if self.flat:
            return amount * self.base[0] / HUNDRED, self.base[1]
        if amount > 0:
            end = start + amount
            for low, high, rate, words in self.steps:
                if low <= start and (high is None or end <= high):
                    return amount * rate / HUNDRED, words  # wholly within one band: its only piece is all of it
        parts = self.parts(amount, start)
        total = ZERO
        for part, rate, _ in parts:
            total += part * rate / HUNDRED
        if len(parts) == 1:
            return total, parts[0][2]
        return total, "; ".join(f"{words} on {amount_text(part)}" for part, _, words in parts)


def _band_at(position: Decimal, quota: Decimal, plan_bands: list[Band]) -> Band:
    found = plan_bands[0]
    for band in plan_bands:
        if position * HUNDRED >= quota * band.lower:
            found = band
    return found


def category_piece(amount: Decimal, category: str, rate: Decimal) -> Piece:
    return Piece(amount, rate, f"category {category}: {pct(rate)} (instead of the tiers)")


def describe(pieces: list[Piece]) -> str:
    """One piece: its words. Several: each with the amount it applied to."""
    if len(pieces) == 1:
        return pieces[0].words
    return "; ".join(f"{p.words} on {amount_text(p.amount)}" for p in pieces)


def capped(total: Decimal, cap: Decimal | None) -> tuple[Decimal, str]:
    """The cap is applied last, to the total after clawbacks and adjustments."""
    if cap is None or total <= cap:
        return total, ""
    return cap, f"cap applied last: {amount_text(total)} capped to {amount_text(cap)}"
