from crm.records.models.activities import Activity, ActivityKind, Task, TaskPriority, TaskStatus
from crm.records.models.companies import Company, CompanyDomain
from crm.records.models.contacts import Contact, ContactEmail, ContactPhone, PastCompany
from crm.records.models.deals import Deal, DealContact, DealStatus, Pipeline, Stage, StageChange
from crm.records.models.leads import Lead, LeadStatus
from crm.records.models.links import ActivityLink, TaskLink
from crm.records.models.tags import LifecycleStage, Tag

__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityLink",
    "Company",
    "CompanyDomain",
    "Contact",
    "ContactEmail",
    "ContactPhone",
    "Deal",
    "DealContact",
    "DealStatus",
    "Lead",
    "LeadStatus",
    "LifecycleStage",
    "PastCompany",
    "Pipeline",
    "Stage",
    "StageChange",
    "Tag",
    "Task",
    "TaskLink",
    "TaskPriority",
    "TaskStatus",
]
