from django.db import models


class SearchKind(models.Model):
    """A record type's number in the search index's row ids (``object_id << KIND_BITS | number``, see
    crm/search/registry.py). Given the first time a type is indexed and kept for good, so the index
    takes any number of types, the ones users define included."""

    object_type = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"{self.object_type} ({self.pk})"
