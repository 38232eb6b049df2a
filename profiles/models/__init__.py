"""The app's models, one module per part of the domain (see DESIGN.md)."""

from .accounts import Contributor, WorkerHeartbeat
from .catalog import (
    UNKNOWN_FIRMWARE,
    DeviceModel,
    DeviceModelAlias,
    FirmwareVersion,
    Manufacturer,
    ManufacturerAlias,
    ManufacturerDomain,
    name_slug,
)
from .consensus import LATEST, Change, ConsensusFlow, ConsensusProfile
from .submissions import Flow, PeerDomain, Submission
from .trust import GroupMerge, ModerationDecision, ReputationEvent, SubmissionReport, Vote

__all__ = [
    "LATEST",
    "UNKNOWN_FIRMWARE",
    "Change",
    "ConsensusFlow",
    "ConsensusProfile",
    "Contributor",
    "DeviceModel",
    "DeviceModelAlias",
    "FirmwareVersion",
    "Flow",
    "GroupMerge",
    "Manufacturer",
    "ManufacturerAlias",
    "ManufacturerDomain",
    "ModerationDecision",
    "PeerDomain",
    "ReputationEvent",
    "Submission",
    "SubmissionReport",
    "Vote",
    "WorkerHeartbeat",
    "name_slug",
]
