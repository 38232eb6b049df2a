from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict[str, Any], key: str) -> Any:
    """`{{ my_votes|lookup:flow.key }}`: templates cannot index a dict by a variable."""
    return mapping.get(key) if mapping else None
