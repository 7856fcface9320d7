"""Fixtures of the fault suite: a project and a fake endpoint that stops itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_helpers import FakeOpenAIServer, make_project


@pytest.fixture
def project(tmp_path: Path, example_course_readonly: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture
def endpoint() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """``endpoint(*steps, **options)``: a started fake server answering ``auto``."""
    servers: list[FakeOpenAIServer] = []

    def factory(*steps: Any, **options: Any) -> FakeOpenAIServer:
        options.setdefault("auto", True)
        options.setdefault("max_requests", 400)
        options.setdefault("lifetime_s", 180.0)
        server = FakeOpenAIServer(list(steps), **options).start()
        servers.append(server)
        return server

    try:
        yield factory
    finally:
        for server in servers:
            server.stop()
