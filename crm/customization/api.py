from ninja import Router, Schema

from crm.core import recordtypes
from crm.core.errors import BadRequest
from crm.customization.models import CustomField

router = Router(tags=["configuration"])


class CustomFieldOut(Schema):
    id: int
    object_type: str
    key: str
    label: str
    field_type: str
    required: bool
    default: object | None
    choices: list
    help_text: str
    target: str
    unique: bool
    searchable: bool
    encrypted: bool


@router.get("", response=list[CustomFieldOut], summary="Custom field definitions")
def custom_fields(request, object_type: str | None = None):
    qs = CustomField.objects.all()
    if object_type:
        if object_type not in recordtypes.known_types():
            raise BadRequest(
                f"Unknown object type {object_type!r}.",
                fields={"object_type": f"Use one of: {', '.join(recordtypes.known_types())}."},
            )
        qs = qs.filter(object_type=object_type)
    return list(qs)
