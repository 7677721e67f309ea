"""Price books. There is exactly one standard book (the first migration creates "Standard"): another
book becomes standard only by an update that says so, which takes the flag from the old one (both
logged); the standard book cannot be unflagged, deactivated or deleted. Deleting another book deletes
its prices with it (the delete's change-log row lists them)."""

from __future__ import annotations

from django.db import transaction

from crm.audit import changelog
from crm.core.errors import Conflict, ValidationFailed
from crm.products.models import PriceBook
from crm.products.services.common import unique_or_422
from crm.records.services import common

FIELDS = ("name", "description", "active", "is_standard")


def _prepare(data: dict) -> dict:
    data, errors = dict(data), {}
    common.resolve_user(data, "owner", errors)
    if isinstance(data.get("name"), str):
        data["name"] = data["name"].strip()
    common.raise_if(errors)
    return data


def _validate(book: PriceBook) -> None:
    if not (book.name or "").strip():
        raise ValidationFailed({"name": "A price book needs a name."})
    common.full_clean(book)
    if PriceBook.objects.filter(name__iexact=book.name).exclude(pk=book.pk).exists():
        raise ValidationFailed({"name": f"There is already a price book named {book.name!r}."})
    if book.is_standard and not book.active:
        raise ValidationFailed({"active": "The standard price book must stay active."})


def _standard(exclude_pk=None) -> PriceBook | None:
    return PriceBook.objects.select_for_update().filter(is_standard=True).exclude(pk=exclude_pk).first()


@transaction.atomic
def price_book_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, PriceBook, "add", data)
    data = _prepare({**data, "owner_id": data.get("owner_id") or actor.pk})  # the creator, unless named
    book = PriceBook()
    common.assign(book, data, (*FIELDS, "owner"))
    common.apply_custom_fields(book, data, creating=True)
    _validate(book)
    current = _standard()
    if book.is_standard and current is not None:
        raise ValidationFailed(
            {"is_standard": f"{current.name!r} is the standard price book; make this one standard by updating it."}
        )
    if current is None and not PriceBook.objects.exists():
        book.is_standard = True  # the first book is the standard one: there is always exactly one
    with unique_or_422("name", f"There is already a price book named {book.name!r}."):
        common.save_new(book, actor=actor)
    common.finish_create(book, actor)
    return common.Saved(book)


@transaction.atomic
def price_book_update(book: PriceBook, *, actor, data: dict, version: int | None = None) -> common.Saved:
    book = common.lock_for_write(book, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(book)
    data = _prepare(data)
    if book.is_standard and data.get("is_standard") is False:
        raise ValidationFailed({"is_standard": "Make another price book standard instead: there is always one."})
    becomes_standard = data.get("is_standard") is True and not book.is_standard
    common.assign(book, data, (*FIELDS, "owner"))
    common.apply_custom_fields(book, data, creating=False)
    _validate(book)
    if becomes_standard:
        _take_standard_flag(actor, exclude_pk=book.pk)
    with unique_or_422("name", f"There is already a price book named {book.name!r}."):
        common.save_existing(book)
    common.finish_update(book, actor, before)
    return common.Saved(book)


def _take_standard_flag(actor, *, exclude_pk) -> None:
    """The old standard book stops being standard (logged as its own update) before the new one saves."""
    old = _standard(exclude_pk=exclude_pk)
    if old is None:
        return
    before = changelog.snapshot(old)
    old.is_standard = False
    common.save_existing(old)
    common.finish_update(old, actor, before)


@transaction.atomic
def price_book_delete(book: PriceBook, *, actor, version: int | None = None) -> None:
    book = common.lock_for_write(book, actor=actor, action="delete", version=version)
    if book.is_standard:
        raise Conflict(
            f"{book.name!r} is the standard price book: make another book standard before deleting it.",
            code="standard_price_book",
        )
    common.delete_record(book, actor=actor, version=version)
