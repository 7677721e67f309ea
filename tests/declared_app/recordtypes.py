from crm.core.recordtypes import ApiSpec, RecordField, RecordType, SearchSpec, register
from tests.declared_app import schemas as s
from tests.declared_app import services
from tests.declared_app.models import Gadget

register(
    RecordType(
        object_type="gadget",
        slug="gadgets",
        model=Gadget,
        singular="gadget",
        plural="gadgets",
        fields=(
            RecordField("id", "int", "ID", sortable=True, read_only=True),
            RecordField(
                "name", "str", "Name", listed=True, sortable=True, searchable=True, importable=True, required=True
            ),
            RecordField("serial", "str", "Serial", listed=True, searchable=True, importable=True),
            RecordField("price", "decimal", "Price", listed=True, sortable=True, importable=True, min_value=0),
            RecordField("owner", "int", "Owner", lookup="owner_id", listed=True, importable=True),
            RecordField("created_at", "datetime", "Created", sortable=True, read_only=True),
            RecordField("updated_at", "datetime", "Updated", listed=True, sortable=True, read_only=True),
        ),
        create=services.gadget_create,
        update=services.gadget_update,
        delete=services.gadget_delete,
        api=ApiSpec(out=s.GadgetOut, create_in=s.GadgetIn, update_in=s.GadgetPatch),
        search=SearchSpec(text=lambda g: [g.name, g.serial]),
        timeline=True,
    )
)
