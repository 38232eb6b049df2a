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
    "Manufacturer",
    "ManufacturerAlias",
    "ManufacturerDomain",
    "PeerDomain",
    "Submission",
    "WorkerHeartbeat",
    "name_slug",
]
