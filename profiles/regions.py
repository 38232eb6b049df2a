"""Countries (ISO 3166-1 alpha-2) and the UN M49 sub-regions a regional variant is for.

The table comes from country-converter's UN regions, read once per process, never typed
here. A variant's scope names its region by a slug of the sub-region's name
(`Western Europe` -> `western-europe`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.text import slugify

_NOT_FOUND = "-"  # country-converter keeps the input for a falsy `not_found`


@cache
def _converter() -> Any:
    import country_converter  # pandas underneath: loaded only when a region is needed

    return country_converter.CountryConverter()


@cache
def region_of(country: str) -> str | None:
    """The UN M49 sub-region of an ISO 3166-1 alpha-2 code, or None for an empty or unknown one."""
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        return None
    found = _converter().convert(country.upper(), src="ISO2", to="UNregion", not_found=_NOT_FOUND)
    return found if isinstance(found, str) and found and found != _NOT_FOUND else None


def is_country(code: str) -> bool:
    return region_of(code) is not None


def region_slug(region: str) -> str:
    return slugify(region)


VARIANT_SEPARATOR = "@"


def variant_scope(scope: str, region: str) -> str:
    """The scope key of `scope`'s variant for a region: `latest@western-europe`."""
    return f"{scope}{VARIANT_SEPARATOR}{region_slug(region)}"


def split_scope(key: str) -> tuple[str, str | None]:
    """(base scope, region slug or None) of a stored scope key."""
    base, _, slug = key.partition(VARIANT_SEPARATOR)
    return base, slug or None
