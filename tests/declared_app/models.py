from django.conf import settings
from django.db import models

from crm.core.models import RecordModel


class Gadget(RecordModel):
    object_type = "gadget"

    name = models.CharField(max_length=200)
    serial = models.CharField(max_length=50, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.name
