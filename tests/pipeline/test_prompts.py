"""Where a run finds its prompts: packaged with lesson-author, or the course's own folder."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest

from lesson_author.errors import UserError
from lesson_author.pipeline.context import PROMPTS_ENV, prompt_environment, prompts_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROMPTS_ENV, raising=False)


def test_the_packaged_prompts_are_the_top_level_folder_found_as_a_resource(tmp_path: Path):
    found = prompts_dir(tmp_path)  # no [tool.author] above tmp_path
    assert found == Path(str(importlib.resources.files("lesson_author.prompts")))
    assert sorted(p.name for p in found.glob("*.j2")) == sorted(
        p.name for p in (ROOT / "prompts").glob("*.j2")
    )
    assert "lesson" in prompt_environment(found).get_template("system.md.j2").render().lower()


def test_a_course_overrides_the_prompts_relative_to_its_pyproject(tmp_path: Path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "system.md.j2").write_text("Our own system prompt.\n")
    (tmp_path / "pyproject.toml").write_text('[tool.author]\nprompts = "mine"\n')
    found = prompts_dir(tmp_path / "lessons")
    assert found.resolve() == (tmp_path / "mine").resolve()
    text = prompt_environment(found).get_template("system.md.j2").render()
    assert text == "Our own system prompt.\n"


def test_a_missing_prompts_folder_names_the_pyproject(tmp_path: Path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.author]\nprompts = "nowhere"\n')
    with pytest.raises(UserError) as caught:
        prompts_dir(tmp_path / "lessons")
    assert caught.value.path == tmp_path / "pyproject.toml"
    assert "nowhere" in str(caught.value)


def test_prompts_must_be_a_path_string(tmp_path: Path):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.author]\nprompts = 3\n")
    with pytest.raises(UserError, match="prompts must be a path string"):
        prompts_dir(tmp_path / "lessons")
