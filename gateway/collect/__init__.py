"""mudhub-collect: from a gateway's view of a device's traffic to the device's flows.

Gateway-side: the standard library, dpkt, tqdm and the pure MUD codec (profiles.mud), never
Django. `collect()` reads the inputs; the CLI (`python -m gateway.collect`, `mudhub-collect`)
writes the outputs.
"""

from .collection import Collection, FlowStat, Note
from .sources import InputError, collect

__all__ = ["Collection", "FlowStat", "InputError", "Note", "collect"]
