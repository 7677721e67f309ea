"""How a file row becomes a record type's service data: one importer per importable type, by the
type's slug (its declaration in crm/*/recordtypes.py)."""

from crm.dataio.importers.base import Importer
from crm.dataio.importers.contacts import CompanyImporter, ContactImporter
from crm.dataio.importers.records import ActivityImporter, DealImporter, LeadImporter

IMPORTERS: dict[str, type[Importer]] = {
    "contacts": ContactImporter,
    "companies": CompanyImporter,
    "leads": LeadImporter,
    "deals": DealImporter,
    "activities": ActivityImporter,
}
