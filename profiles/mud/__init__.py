"""The MUD codec (RFC 8520): parse, flows, emit, diff. Pure Python, no Django."""

from .diff import MudDiff, diff
from .emit import emit
from .errors import CODES, MudValidationError, Problem
from .flows import Flow, PortMatch
from .json_load import load_json
from .limits import DEFAULT_LIMITS, Limits
from .meta import PLACEHOLDER_MUD_URL, MudMeta
from .parse import MudDocument, parse

__all__ = [
    "CODES",
    "DEFAULT_LIMITS",
    "PLACEHOLDER_MUD_URL",
    "Flow",
    "Limits",
    "MudDiff",
    "MudDocument",
    "MudMeta",
    "MudValidationError",
    "PortMatch",
    "Problem",
    "diff",
    "emit",
    "load_json",
    "parse",
]
