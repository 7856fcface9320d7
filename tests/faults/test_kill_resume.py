"""kill -9 at several points of `author lesson`, then run it again: it resumes, repeats no
finished node, and ends with the same records as a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from fault_helpers import (
    assert_records_clean,
    endpoint_args,
    make_project,
    run_author,
    start_author,
)

RECORD = Path("lessons/series-7/module-7-4/record.md")


def summary(project: Path) -> dict:
    return json.loads((project / ".author" / "runs" / "z-image.json").read_text())


def nodes(data: dict) -> list[tuple[str, int]]:
    return [(n["node"], n["attempt"]) for n in data["nodes"]]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, example_course_readonly: Path):
    """One run that nobody stopped: its node sequence, record and request count."""
    from llm_fake_server import FakeOpenAIServer

    project = make_project(tmp_path_factory.mktemp("whole") / "project")
    server = FakeOpenAIServer(auto=True, max_requests=400, lifetime_s=120).start()
    try:
        done = run_author(project, "lesson", "z-image", *endpoint_args(server))
    finally:
        server.stop()
    assert done.returncode in (0, 3), done.stderr
    return {
        "nodes": nodes(summary(project)),
        "record": (project / RECORD).read_text(encoding="utf-8"),
        "requests": server.count,
        "code": done.returncode,
    }


# the model request during which the process is killed: orient (the first call), the
# plan phases, the build's sections, the review loop, and the record's notes (the last call)
@pytest.mark.parametrize("kill_at", [1, 9, 17, 24, "last"])
def test_kill_9_then_resume(kill_at, project: Path, endpoint, uninterrupted) -> None:
    at = uninterrupted["requests"] if kill_at == "last" else kill_at
    process: dict = {}

    def kill(n: int) -> None:
        if n == at:
            os.kill(process["p"].pid, signal.SIGKILL)

    server = endpoint(on_request=kill)
    process["p"] = start_author(project, "lesson", "z-image", *endpoint_args(server))
    process["p"].communicate(timeout=120)
    assert process["p"].returncode == -signal.SIGKILL

    done = run_author(project, "lesson", "z-image", *endpoint_args(server))
    assert done.returncode == uninterrupted["code"], done.stderr
    data = summary(project)
    assert data["resumed_at"]  # it went on from the checkpoint
    # no finished node ran again: the same node sequence as the uninterrupted run
    assert nodes(data) == uninterrupted["nodes"]
    # only the requests in flight when it died were asked again (at most --concurrency, 4,
    # during a build); every answered one came from the checkpoint or the cache
    assert server.count <= uninterrupted["requests"] + 4
    assert (project / RECORD).read_text(encoding="utf-8") == uninterrupted["record"]
    assert_records_clean(project)
