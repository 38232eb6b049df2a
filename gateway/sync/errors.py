"""Why a sync stopped, as a stable code and the exit status the command returns."""

from __future__ import annotations

EXIT_OK = 0
EXIT_NETWORK = 1  # the server or mirror could not be reached or answered oddly: try again later
EXIT_USAGE = 2
EXIT_BAD_SIGNATURE = 3  # a file or the index does not verify, or does not match what signed it
EXIT_EXPIRED = 4  # the index is past its expiry (a replayed or stale index)
EXIT_UNPINNED = 5  # signed by a certificate that is not pinned (nor announced by a pinned one)
EXIT_ROLLBACK = 6  # an older index than one already seen


class SyncError(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
