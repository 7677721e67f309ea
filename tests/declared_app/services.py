"""The gadget's services, built on the shared record helpers as every type's are."""

from django.db import transaction

from crm.audit import changelog
from crm.records.services import common
from tests.declared_app.models import Gadget

FIELDS = ("name", "serial", "price", "owner")


def _prepare(data: dict) -> dict:
    data, errors = dict(data), {}
    common.resolve_user(data, "owner", errors)
    common.raise_if(errors)
    return data


def _validate(gadget: Gadget) -> None:
    if not (gadget.name or "").strip():
        raise common.ValidationFailed({"name": "A gadget needs a name."})
    common.full_clean(gadget)


@transaction.atomic
def gadget_create(*, actor, data: dict) -> common.Saved:
    common.require(actor, Gadget, "add", data)
    data = _prepare({"owner_id": actor.pk, **data})
    gadget = Gadget()
    common.assign(gadget, data, FIELDS)
    common.apply_custom_fields(gadget, data, creating=True)
    _validate(gadget)
    common.save_new(gadget, actor=actor)
    common.finish_create(gadget, actor)
    return common.Saved(gadget)


@transaction.atomic
def gadget_update(gadget: Gadget, *, actor, data: dict, version: int | None = None) -> common.Saved:
    gadget = common.lock_for_write(gadget, actor=actor, action="change", version=version, data=data)
    before = changelog.snapshot(gadget)
    data = _prepare(data)
    common.assign(gadget, data, FIELDS)
    common.apply_custom_fields(gadget, data, creating=False)
    _validate(gadget)
    common.save_existing(gadget)
    common.finish_update(gadget, actor, before)
    return common.Saved(gadget)


@transaction.atomic
def gadget_delete(gadget: Gadget, *, actor, version: int | None = None) -> None:
    common.delete_record(gadget, actor=actor, version=version)
