"""The LLM layer: one Protocol, `complete(messages, schema, *, phase) -> (instance, Usage)`.

Providers: OpenAI-compatible endpoints (`openai_provider`), the embedded llama.cpp
model (`local_provider`, the default), and a scripted one for tests (`scripted`).
`make_provider(load_config(...))` gives the configured one, cached.
"""

from .base import Message, Provider, RawReply, complete_with_validation
from .cache import CachedProvider, ResponseCache
from .config import LLMConfig, load_config
from .errors import LLMError, scrub
from .factory import RecordingProvider, make_provider
from .schema_budget import schema_token_budget, unbounded_fields
from .scripted import ScriptedProvider
from .usage import PhaseSummary, Usage, UsageLog

__all__ = [
    "CachedProvider",
    "LLMConfig",
    "LLMError",
    "Message",
    "PhaseSummary",
    "Provider",
    "RawReply",
    "RecordingProvider",
    "ResponseCache",
    "ScriptedProvider",
    "Usage",
    "UsageLog",
    "complete_with_validation",
    "load_config",
    "make_provider",
    "schema_token_budget",
    "scrub",
    "unbounded_fields",
]
