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
from .consensus import LATEST, Change, ConsensusFlow, ConsensusProfile, FeedHorizon, PublishedIndex
from .manufacturers import (
    Discrepancy,
    FlowStatement,
    ManufacturerDecision,
    ManufacturerMember,
    SignedProfile,
    SigningCertificate,
)
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
    "Discrepancy",
    "FeedHorizon",
    "FirmwareVersion",
    "Flow",
    "FlowStatement",
    "GroupMerge",
    "Manufacturer",
    "ManufacturerAlias",
    "ManufacturerDecision",
    "ManufacturerDomain",
    "ManufacturerMember",
    "ModerationDecision",
    "PeerDomain",
    "PublishedIndex",
    "ReputationEvent",
    "SignedProfile",
    "SigningCertificate",
    "Submission",
    "SubmissionReport",
    "Vote",
    "WorkerHeartbeat",
    "name_slug",
]
