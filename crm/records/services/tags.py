"""Tags managed by admins (the admin screen, the demo): checked and written to the change log. Record
services still add a missing tag by name when a record is tagged (common.set_tags)."""

from __future__ import annotations

import re

from django.db import transaction

from crm.access.policy import require_admin
from crm.audit import configwrites
from crm.core.errors import ValidationFailed
from crm.records.models import Tag

FIELDS = ("name", "color")
COLOR = re.compile(r"#[0-9a-f]{6}")


def check(tag: Tag) -> None:
    """A name without surrounding spaces (tags are found by name) and a #rrggbb colour or none."""
    tag.name = (tag.name or "").strip()
    tag.color = (tag.color or "").strip().lower()
    if tag.color and not COLOR.fullmatch(tag.color):
        raise ValidationFailed({"color": "A colour like #1a7f37 (# and six hex digits), or empty."})


@transaction.atomic
def tag_create(*, actor, data: dict) -> Tag:
    require_admin(actor, "tags")
    return configwrites.create(Tag(**{k: data[k] for k in FIELDS if k in data}), actor=actor, check=check)


@transaction.atomic
def tag_update(tag: Tag, *, actor, data: dict) -> Tag:
    require_admin(actor, "tags")
    return configwrites.update(tag, actor=actor, data=data, fields=FIELDS, check=check)


@transaction.atomic
def tag_delete(tag: Tag, *, actor) -> None:
    """The tag comes off every record that had it (the link rows go with it)."""
    require_admin(actor, "tags")
    configwrites.delete(tag, actor=actor)
