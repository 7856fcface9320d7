"""Fixtures for the LLM layer tests: fake OpenAI-compatible servers that stop themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llm_fake_server import FakeOpenAIServer, Step


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_server() -> Iterator[Callable[..., FakeOpenAIServer]]:
    servers: list[FakeOpenAIServer] = []

    def factory(*steps: Step, **kwargs: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(list(steps), **kwargs).start()
        servers.append(server)
        return server

    try:
        yield factory
    finally:
        for server in servers:
            server.stop()
