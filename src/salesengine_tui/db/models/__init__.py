"""All tables. Importing this module registers them on `SQLModel.metadata`."""

from sqlmodel import SQLModel

# Deterministic constraint names, so migrations and models agree by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from .audit import AuditLog  # noqa: E402
from .enums import (  # noqa: E402
    END_OF_LIFE_RESOLUTION,
    CustomerStatus,
    EstimateStatus,
    InteractionDirection,
    InteractionType,
    OutboxStatus,
    TaskKind,
    TicketStatus,
    UserRole,
)
from .operations import Customer, Equipment, Estimate, Ticket, User  # noqa: E402
from .outreach import EmailEvent, EmailSyncMark  # noqa: E402
from .platform import Blast, EmailOutbox, JobRun, Notification, Segment  # noqa: E402
from .runners import JobLease, JobRunner  # noqa: E402
from .sales import (  # noqa: E402
    CustomerInteraction,
    CustomerOptOutChange,
    CustomerStatusChange,
    DealPipeline,
    DealStage,
    EstimateStageHistory,
)
from .workflow import AutomationMark, EstimateChange, Task  # noqa: E402

metadata = SQLModel.metadata

__all__ = [
    "END_OF_LIFE_RESOLUTION",
    "AuditLog",
    "AutomationMark",
    "Blast",
    "Customer",
    "CustomerInteraction",
    "CustomerOptOutChange",
    "CustomerStatus",
    "CustomerStatusChange",
    "DealPipeline",
    "DealStage",
    "EmailEvent",
    "EmailOutbox",
    "EmailSyncMark",
    "Equipment",
    "Estimate",
    "EstimateChange",
    "EstimateStageHistory",
    "EstimateStatus",
    "InteractionDirection",
    "InteractionType",
    "JobLease",
    "JobRun",
    "JobRunner",
    "Notification",
    "OutboxStatus",
    "Segment",
    "Task",
    "TaskKind",
    "Ticket",
    "TicketStatus",
    "User",
    "UserRole",
    "metadata",
]
