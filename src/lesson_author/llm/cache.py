"""Content-addressed response cache in sqlite, and the provider wrapper that uses it.

The key is the sha256 of the canonical JSON of the provider's identity (name,
model, endpoint, sampling parameters), the messages and the schema's JSON
schema. A row holds the validated JSON of the reply and the usage of the call
that produced it; nothing else, so no secret can reach the file. WAL mode and a
busy timeout let two processes share one cache.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .base import Message, ModelT, Provider
from .errors import LLMError
from .usage import Usage

BUSY_TIMEOUT_S = 30.0

_CREATE = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    phase TEXT NOT NULL,
    schema_name TEXT NOT NULL,
    response_json TEXT NOT NULL,
    usage_json TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cache_key(identity: dict[str, Any], messages: list[Message], schema: type[BaseModel]) -> str:
    payload = {
        "identity": identity,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "schema": schema.model_json_schema(),
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def provider_identity(provider: Provider) -> dict[str, Any]:
    """What makes two providers answer alike: their own cache_identity(), or name + model."""
    describe = getattr(provider, "cache_identity", None)
    if callable(describe):
        return dict(describe())
    return {"provider": provider.name, "model": provider.model}


class ResponseCache:
    """The sqlite file. Each operation opens its own connection, so threads may share it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._initialise()
        except (OSError, sqlite3.Error) as exc:
            raise self._error("cannot open", exc) from None

    def _initialise(self) -> None:
        """Switch to WAL and create the table, retrying while another process does the same.

        sqlite does not call the busy handler for every lock a journal-mode switch or a
        first schema write needs, so two processes opening a new file at once can get
        "database is locked" at once; they retry here until the busy timeout.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.01
        while True:
            conn = self._connect()
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_CREATE)
                return
            except sqlite3.OperationalError as exc:
                locked = "locked" in str(exc) or "busy" in str(exc)
                if not locked or time.monotonic() > deadline:
                    raise
            finally:
                conn.close()
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def _error(self, what: str, exc: Exception) -> LLMError:
        return LLMError(
            f"{what} the response cache {self.path}: {exc}; run with --no-cache or delete the file"
        )

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def get(self, key: str) -> tuple[str, Usage] | None:
        try:
            conn = self._connect()
            try:
                row = conn.execute(
                    "SELECT response_json, usage_json FROM responses WHERE key = ?", (key,)
                ).fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise self._error("cannot read", exc) from None
        if row is None:
            return None
        try:
            return row[0], Usage.model_validate_json(row[1])
        except ValidationError:
            return None

    def put(
        self,
        key: str,
        *,
        provider: str,
        phase: str,
        schema_name: str,
        response_json: str,
        usage: Usage,
    ) -> None:
        try:
            conn = self._connect()
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        provider,
                        usage.model,
                        phase,
                        schema_name,
                        response_json,
                        usage.model_dump_json(),
                        time.time(),
                    ),
                )
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise self._error("cannot write", exc) from None

    def count(self) -> int:
        conn = self._connect()
        try:
            return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
        finally:
            conn.close()


class CachedProvider:
    """A Provider that answers from the cache when it can, and fills it when it cannot."""

    def __init__(self, inner: Provider, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.model = inner.model

    def cache_identity(self) -> dict[str, Any]:
        return provider_identity(self.inner)

    def complete(
        self, messages: list[Message], schema: type[ModelT], *, phase: str
    ) -> tuple[ModelT, Usage]:
        started = time.perf_counter()
        key = cache_key(provider_identity(self.inner), messages, schema)
        hit = self.cache.get(key)
        if hit is not None:
            response_json, original = hit
            try:
                instance = schema.model_validate_json(response_json)
            except ValidationError:
                instance = None  # stale row (the model class changed); ask again
            if instance is not None:
                return instance, Usage(
                    phase=phase,
                    model=self.model,
                    prompt_tokens=original.prompt_tokens,
                    completion_tokens=original.completion_tokens,
                    latency_s=time.perf_counter() - started,
                    cached=True,
                    calls=0,
                    no_answer=list(original.no_answer),
                )
        instance, usage = self.inner.complete(messages, schema, phase=phase)
        self.cache.put(
            key,
            provider=self.name,
            phase=phase,
            schema_name=schema.__name__,
            response_json=instance.model_dump_json(),
            usage=usage,
        )
        return instance, usage
