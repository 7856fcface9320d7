"""The one error type of the LLM layer, and the scrubbing that keeps secrets out of it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .usage import Usage

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
REDACTED = "[REDACTED]"


def register_secret(secret: str | None) -> None:
    """Remember a secret (an API key) so that no LLMError can ever show it."""
    if secret and len(secret) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(secret)


def scrub(text: str, *extra_secrets: str | None) -> str:
    """`text` with every registered secret (and any in `extra_secrets`) replaced."""
    with _SECRETS_LOCK:
        secrets = set(_SECRETS)
    secrets.update(s for s in extra_secrets if s)
    # longest first, so a key that contains another key is replaced whole
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace so a message stays on one line, and bound its length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class LLMError(Exception):
    """A model call failed in a way the caller should report, not retry.

    The message is one line, names the phase and the model, and never contains
    a registered secret. `usage` carries what the failed attempts cost, if any.
    """

    def __init__(self, message: str, *, usage: Usage | None = None) -> None:
        super().__init__(scrub(one_line(message, limit=1000)))
        self.usage = usage

    def __str__(self) -> str:  # args may be reassigned by callers; scrub again
        return scrub(str(self.args[0]) if self.args else "")
