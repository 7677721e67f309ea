"""The external feed's body: an order as an outside system sends it (its customer by email and
company, not by our ids)."""

import datetime as dt
from typing import Annotated

from pydantic import Field, StringConstraints

from crm.orders.api.schemas import S64, Currency, Lines, Mode, Status
from crm.records.api.schemas.common import Email, Id, In, Text

Name = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
CompanyName = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
Domain = Annotated[str, StringConstraints(max_length=255, strip_whitespace=True)]
# The path's keys: letters, digits and . _ : @ - (what shops and ERPs use), no slash.
SOURCE = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,49}$"
EXTERNAL_ID = r"^[A-Za-z0-9][A-Za-z0-9._:@#-]{0,99}$"


class CustomerIn(In):
    email: Email | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    company_name: CompanyName | None = None
    company_domain: Domain | None = Field(None, description="A domain or web address, e.g. example.com")


class ExternalOrderIn(In):
    customer: CustomerIn | None = Field(
        None, description="Matched by email, then company domain or name; created when nothing matches."
    )
    company_id: Id | None = None
    contact_id: Id | None = None
    number: S64 | None = None
    order_date: dt.date | None = None
    currency: Currency | None = None
    status: Status | None = None
    tax_mode: Mode | None = None
    notes: Text | None = None
    lines: Lines
