"""Path converters: an integer path segment is a database id or a version number, both 64-bit.

Django's `int` converter accepts any number of digits, and a number past 2^63-1 then fails
in the database (OverflowError on SQLite, out of range on PostgreSQL). `id` (registered in
ProfilesConfig.ready) matches only what a 64-bit column can hold; anything larger matches no
URL, so it is a 404 like any other id that does not exist.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError(f"{value} is more than a 64-bit id can hold")
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)
