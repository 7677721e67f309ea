"""The base every main record shares: version, timestamps, custom fields, restricted queryset."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm.access.querysets import RestrictedQuerySet, owner_q


class RecordModel(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    custom_fields = models.JSONField(default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    object_type: ClassVar[str]
    owner_field: ClassVar[str] = "owner"
    # False for the organization's catalogue (products, price books): the role's grant alone decides
    # who reaches a record, its scope (own, team) does not apply.
    scoped: ClassVar[bool] = True
    # What extra_snapshot reads, to prefetch for many records at once (crm/records/services/moves.py).
    snapshot_prefetch: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    @classmethod
    def visibility_q(cls, policy, action: str = "view") -> Q | None:
        """The records ``action`` may reach in the policy's scope (own, team or all)."""
        if not cls.scoped:
            return None
        return owner_q(policy, cls.owner_field)


class IdempotencyKey(models.Model):
    """A create's response remembered by (user, key), so a retried request creates nothing twice."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
