"""Errors a user can cause, each naming the file (and line) at fault.

The CLI turns any :class:`UserError` into one line on stderr and exit code 2,
never a traceback.
"""

from __future__ import annotations

from pathlib import Path

# the exit codes of `author` (README: Exit codes)
EXIT_OK = 0
EXIT_FOUND = 1  # check / records --check found problems; a batch lesson failed
EXIT_USAGE = 2  # bad input: one line naming the file and line; another writer holds the lock
EXIT_NOT_PASS = 3  # the lesson did not reach PASS
EXIT_PROVIDER = 4  # the model provider failed (after its retries)
EXIT_INTERRUPTED = 130  # Ctrl-C


class UserError(Exception):
    """A mistake in the user's input or environment; printed as one line, exit 2."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None):
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


class RecordsError(UserError):
    """A record file that cannot be read: missing, not UTF-8, truncated, malformed."""
