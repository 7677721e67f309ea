"""Model fields that keep their value encrypted in the database (crm.core.crypto)."""

from __future__ import annotations

from django.db import models

from crm.core import crypto


class EncryptedTextField(models.TextField):
    """Text stored as ``enc1:<kid>:<token>`` and read back as plain text: for secrets a model holds
    itself (a mailbox password). Not searchable or sortable by its content: a lookup on it compares
    ciphertexts, which differ for equal values, so only ``isnull`` is meaningful. A value sealed under
    a key that is gone raises crypto.KeyMissing on read, naming the key."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        return None if value is None or value == "" else crypto.open_sealed(value)

    def get_prep_value(self, value):
        # Always sealed, even text that looks sealed: the attribute holds plain text (from_db_value
        # opened it), and a user's "enc1:..." must not be stored as is.
        value = super().get_prep_value(value)
        return value if value is None or value == "" else crypto.seal(value)
