"""Countries (ISO 3166-1 alpha-2) and the UN M49 sub-regions a regional variant is for.

The table comes from country-converter's UN regions, read once per process, never typed
here. A variant's scope names its region by a slug of the sub-region's name
(`Western Europe` -> `western-europe`): `latest@western-europe`, `1.2@western-europe`. The
slug is the canonical form, used in scope keys, file paths, URLs and signed files; a
country code is how gateways and submissions name where they are.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.text import slugify


@cache
def _converter() -> Any:
    import country_converter  # pandas underneath: loaded only when a region is needed

    return country_converter.CountryConverter()


@cache
def region_of(country: str) -> str | None:
    """The UN M49 sub-region of an ISO 3166-1 alpha-2 code (any case), or None for an empty or unknown one."""
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        return None
    return _countries().get(country.upper())


def is_country(code: str) -> bool:
    return region_of(code) is not None


def region_slug(region: str) -> str:
    return slugify(region)


VARIANT_SEPARATOR = "@"


def variant_scope(scope: str, region: str) -> str:
    """The scope key of `scope`'s variant for a region: `latest@western-europe`."""
    return f"{scope}{VARIANT_SEPARATOR}{region_slug(region)}"


def split_scope(key: str) -> tuple[str, str | None]:
    """(base scope, region slug or None) of a stored scope key. Only a known sub-region's slug
    after the last `@` makes a variant (a firmware version may hold an `@` of its own)."""
    base, separator, slug = key.rpartition(VARIANT_SEPARATOR)
    if separator and base and slug in _slug_names():
        return base, slug
    return key, None


@cache
def _countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> UN M49 sub-region name, every country country-converter knows."""
    table = _converter().data[["ISO2", "UNregion"]].dropna()
    return {str(code): str(region) for code, region in zip(table["ISO2"], table["UNregion"], strict=True)}


@cache
def _slug_names() -> dict[str, str]:
    return {region_slug(name): name for name in sorted(set(_countries().values()))}


def region_names() -> dict[str, str]:
    """Region slug -> the sub-region's name, for every UN M49 sub-region with a country."""
    return dict(_slug_names())


def country_regions() -> dict[str, str]:
    """Country code -> its sub-region's slug (what the signed index gives gateways)."""
    return {code: region_slug(name) for code, name in sorted(_countries().items())}


def region_resolve(value: str) -> str | None:
    """The sub-region slug a `?region=` names: a country code (any case) or a slug; None if neither."""
    if value in _slug_names():
        return value
    region = region_of(value)
    return region_slug(region) if region is not None else None


def scope_file_path(*, manufacturer_slug: str, model_slug: str, scope: str) -> str:
    """Where a scope's file is served, relative to the site root, the same under mudhub's /mud/
    and MUDHUB_PUBLISH_DIR: `mud/<mfg>/<model>.json`, `mud/<mfg>/<model>/<firmware>.json`, and
    a regional variant beside its global file with `@<region slug>` before `.json`
    (`mud/<mfg>/<model>@western-europe.json`, `mud/<mfg>/<model>/1.2@western-europe.json`): a
    path a static server serves as it is, distinct from every global file's."""
    base, region = split_scope(scope)
    suffix = f"{VARIANT_SEPARATOR}{region}" if region else ""
    if base == "latest":
        return f"mud/{manufacturer_slug}/{model_slug}{suffix}.json"
    return f"mud/{manufacturer_slug}/{model_slug}/{base}{suffix}.json"


# The longest scope key the database stores (ConsensusProfile.scope, Change.scope).
SCOPE_KEY_MAX = 100


def regional_variants(scopes: tuple[str, ...], regions: set[str]) -> dict[str, tuple[str, str]]:
    """The variant scope keys of `scopes` for each region (by name) some observation came
    from: key -> (its base scope, its region). A key that would be a base scope's own (a
    firmware version spelt `1.2@western-europe`) or longer than the database holds gets no
    variant: that region is served the global file, as a region without evidence is."""
    variants = {}
    for scope in scopes:
        for region in sorted(regions):
            key = variant_scope(scope, region)
            if key not in scopes and len(key) <= SCOPE_KEY_MAX:
                variants[key] = (scope, region)
    return variants
