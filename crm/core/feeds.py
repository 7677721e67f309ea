"""Records fed by an outside system (a shop, an ERP, the accounting system), keyed by the sender's
(source, external id): the one upsert the order and invoice feeds share (crm/orders/services/external.py,
crm/invoices/services/external.py). The core imports no app: the model, its create and update services
and the customer matching come from the caller.

Idempotent: the same key updates the one record, never a second one, also when the same record is
sent twice at once. The model's unique constraint on (external_source, external_id) decides the race;
the loser's attempt (its customer creation included) rolls back to its savepoint and runs again, and
then finds the winner's record and updates it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from crm.core.errors import Conflict

ATTEMPTS = 3


@dataclass(frozen=True)
class Feed:
    model: type
    create: Callable  # create(*, actor, data) -> Saved
    update: Callable  # update(record, *, actor, data) -> Saved
    match_customer: Callable  # match_customer(actor, customer, created) -> {company_id, contact_id}
    noun: str  # "Order": the busy message names it
    busy_code: str

    def upsert(self, *, actor, source: str, external_id: str, data: dict, created: list | None = None):
        """(saved, created). ``data``: the record's fields, and ``customer`` ({email, first_name,
        last_name, company_name, company_domain}) unless it names ``company_id`` / ``contact_id``
        itself. ``created`` collects the customers created (an import's undo)."""
        for attempt in range(ATTEMPTS):
            made: list = []
            try:
                with transaction.atomic():
                    result = self._upsert(actor, source.strip(), external_id.strip(), dict(data), made)
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise Conflict(
                        f"{self.noun} {source}/{external_id} is being written by another request; send it again.",
                        code=self.busy_code,
                    ) from None
                continue
            if created is not None:
                created += made
            return result
        raise AssertionError("unreachable")

    def _upsert(self, actor, source: str, external_id: str, data: dict, made: list):
        customer = data.pop("customer", None)
        if customer:
            data.update({k: v for k, v in self.match_customer(actor, customer, made).items() if v is not None})
        data = {**data, "external_source": source, "external_id": external_id}
        existing = self.model.objects.select_for_update().filter(external_source=source, external_id=external_id)
        found = existing.first()
        if found is not None:
            return self.update(found, actor=actor, data=data), False
        return self.create(actor=actor, data=data), True
