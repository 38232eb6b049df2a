"""The app's models, one module per part of the domain (see DESIGN.md)."""

from .accounts import Contributor, WorkerHeartbeat

__all__ = ["Contributor", "WorkerHeartbeat"]
