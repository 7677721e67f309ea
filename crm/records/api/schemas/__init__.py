"""Request and response shapes of the record endpoints, one module per concern; ``schemas.X`` names
every one of them (crm/records/recordtypes.py reads them as ``s.ContactIn``)."""

from crm.records.api.schemas.activities import *  # noqa: F403
from crm.records.api.schemas.common import *  # noqa: F403
from crm.records.api.schemas.parties import *  # noqa: F403
from crm.records.api.schemas.sales import *  # noqa: F403
