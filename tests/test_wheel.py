"""The wheel, installed as a user installs it, plans a lesson and finds its prompts.

Builds a wheel of this checkout, installs it (not editable, without the ``local`` extra) in a
fresh venv, and runs that venv's ``author plan z-image`` on a copy of the example course
against the fake OpenAI-compatible server of tests/llm, which answers each request by its
response schema with the replies the plan-graph tests use. Nothing of the checkout is on the
subprocess's path, so a prompt, template or module missing from the wheel fails the run.

The dependencies come from pip's cache (or the registry); when pip cannot reach either, the
test is skipped with pip's message rather than failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
from example_course import copy_example_course

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "llm"))
sys.path.insert(0, str(HERE / "pipeline"))

from llm_fake_server import SECRET_KEY, FakeOpenAIServer, Recorded, Step, ok
from test_plan_graph import (
    analyze_reply,
    design_reply,
    example_reply,
    gap_reply,
    misconception_reply,
    orient_reply,
    outline_reply,
    practice_reply,
    scope_reply,
    section_reply,
)

pytestmark = pytest.mark.slow

SLUG = "z-image"
PLAN = Path("series-7") / "module-7-4" / "lessons" / f"{SLUG}.md"
# response schema name (the pydantic class, see llm/openai_provider.py) -> the n-th reply
REPLIES = {
    "OrientReply": lambda n: orient_reply(),
    "AnalyzeReply": lambda n: analyze_reply(),
    "GapReply": lambda n: gap_reply(),
    "MisconceptionReply": lambda n: misconception_reply(),
    "ExampleReply": lambda n: example_reply(),
    "DesignReply": lambda n: design_reply(),
    "ScopeReply": lambda n: scope_reply(),
    "OutlineFrame": lambda n: outline_reply(),
    "SectionReply": section_reply,
    "PracticeReply": lambda n: practice_reply(),
}
# what pip prints when the registry cannot be reached (and its cache lacks a package)
OFFLINE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable")
# what the sdist holds: the wheel is built from a copy of these, never in the checkout, whose
# setuptools build/ folder would keep modules that were deleted since the last build
SOURCES = ("pyproject.toml", "setup.py", "README.md", "src", "prompts")


class SchemaServer(FakeOpenAIServer):
    """Answers by the request's response schema instead of from a fixed script."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: dict[str, int] = {}

    def _next(self, recorded: Recorded) -> Step:
        fmt = recorded.body.get("response_format") or {}
        name = (fmt.get("json_schema") or {}).get("name", "")
        with self._lock:
            self.requests.append(recorded)
            n = self.asked[name] = self.asked.get(name, 0) + 1
        if name not in REPLIES:
            return Step(status=400, error_message=f"fake server: no reply for schema {name!r}")
        return ok(REPLIES[name](n))


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, capture_output=True, text=True, timeout=900, **kwargs)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would put the checkout or a key on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "OPENAI_", "AUTHOR_", "VIRTUAL_ENV"))
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def _pip(args: list[str], env: dict[str, str]) -> None:
    done = _run([sys.executable, "-m", "pip", *args], env=env)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if any(marker in output for marker in OFFLINE):
            pytest.skip(f"pip could not get a package (offline?): {output.strip()[-300:]}")
        raise AssertionError(f"pip {' '.join(args)} failed:\n{output[-3000:]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel of this checkout installed; returns its bin directory."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    env = _clean_env()
    _pip(["wheel", "--no-deps", "--wheel-dir", str(base / "dist"), str(source)], env)
    wheels = list((base / "dist").glob("lesson_author-*.whl"))
    assert len(wheels) == 1, wheels
    venv.EnvBuilder(with_pip=False).create(base / "venv")
    python = base / "venv" / "bin" / "python"
    _pip(["--python", str(python), "install", str(wheels[0])], env)
    return python.parent


def test_the_installed_wheel_plans_a_lesson_with_its_packaged_prompts(
    installed: Path, tmp_path: Path
) -> None:
    probe = _run(
        [
            str(installed / "python"),
            "-c",
            (
                "import importlib.resources as r, importlib.util as u, lesson_author;"
                "print(lesson_author.__file__);"
                "print(r.files('lesson_author.prompts') / 'system.md.j2');"
                "print(u.find_spec('llama_cpp') is not None)"
            ),
        ],
        env=_clean_env(),
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    package, system_prompt, has_llama = probe.stdout.split()
    site = installed.parent / "lib"
    assert Path(package).is_relative_to(site), package  # not the checkout
    assert Path(system_prompt).is_relative_to(site) and Path(system_prompt).is_file()
    assert has_llama == "False"  # installed without the local extra

    # the committed example course, never the live lessons/ that the README's command 1 writes
    records = copy_example_course(tmp_path / "course" / "lessons")
    (records / PLAN).unlink(missing_ok=True)
    server = SchemaServer(max_requests=100, lifetime_s=600).start()
    try:
        done = _run(
            [str(installed / "author"), "plan", SLUG, "--records", str(records), "--json"],
            env=_clean_env(
                OPENAI_BASE_URL=server.base_url,
                OPENAI_API_KEY=SECRET_KEY,
                AUTHOR_MODEL="fake-model",
            ),
            cwd=tmp_path / "course",
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "planned", result
    assert result["plan_path"] == f"lessons/{PLAN.as_posix()}"
    assert (records / PLAN).read_text(encoding="utf-8").startswith("#")
    # every phase asked the endpoint, and every prompt was rendered from the packaged files
    assert set(server.asked) == set(REPLIES), server.asked
    packaged = Path(system_prompt).read_text(encoding="utf-8")
    for request in server.requests:
        assert request.body["messages"][0]["content"][:200] in packaged
