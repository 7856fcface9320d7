"""Build the configured provider, with the cache and usage recording around it."""

from __future__ import annotations

from typing import Any

from .base import Message, ModelT, Provider
from .cache import CachedProvider, ResponseCache, provider_identity
from .config import LLMConfig
from .errors import LLMError
from .usage import Usage, UsageLog


class RecordingProvider:
    """Records every Usage (cache hits and failed calls too) into a UsageLog."""

    def __init__(self, inner: Provider, log: UsageLog) -> None:
        self.inner = inner
        self.log = log
        self.name = inner.name
        self.model = inner.model

    def cache_identity(self) -> dict[str, Any]:
        return provider_identity(self.inner)

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]:
        try:
            instance, usage = self.inner.complete(messages, schema, phase=phase)
        except LLMError as exc:
            if exc.usage is not None:
                self.log.record(exc.usage)
            raise
        self.log.record(usage)
        return instance, usage


def make_provider(config: LLMConfig, *, usage_log: UsageLog | None = None) -> Provider:
    """The provider `config` names ("auto" resolved), cached unless `config.cache` is False,
    recording into `usage_log` when one is given."""
    kind = config.resolved_provider
    provider: Provider
    if kind == "openai":
        from .openai_provider import OpenAIProvider

        provider = OpenAIProvider(config)
    elif kind == "local":
        from .local_provider import LocalProvider

        provider = LocalProvider(config)
    else:
        raise LLMError(f"unknown LLM provider {config.provider!r}; use auto, openai or local")
    if config.cache:
        if config.cache_path is None:
            raise LLMError("the response cache is on but no cache_path is set (use load_config)")
        provider = CachedProvider(provider, ResponseCache(config.cache_path))
    if usage_log is not None:
        provider = RecordingProvider(provider, usage_log)
    return provider
