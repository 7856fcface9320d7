"""Configuration precedence: CLI > environment > [tool.author] in pyproject.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from lesson_author.llm import LLMError, load_config
from lesson_author.llm.config import BUNDLED_MODEL_NAME, DEFAULT_OPENAI_MODEL


def write_pyproject(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_anything_mean_the_embedded_model(tmp_path: Path) -> None:
    config = load_config(project_root=tmp_path, env={})
    assert config.provider == "local"
    assert config.model == BUNDLED_MODEL_NAME
    assert (config.temperature, config.max_retries, config.cache) == (0.0, 2, True)
    assert config.cache_path == tmp_path.resolve() / ".author" / "cache.sqlite"


def test_an_api_key_alone_means_openai(tmp_path: Path) -> None:
    config = load_config(project_root=tmp_path, env={"OPENAI_API_KEY": "sk-x"})
    assert (config.provider, config.model, config.api_key) == (
        "openai",
        DEFAULT_OPENAI_MODEL,
        "sk-x",
    )


def test_a_base_url_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="AUTHOR_MODEL"):
        load_config(project_root=tmp_path, env={"OPENAI_BASE_URL": "http://localhost:11434/v1"})
    config = load_config(
        project_root=tmp_path,
        env={"OPENAI_BASE_URL": "http://localhost:11434/v1", "AUTHOR_MODEL": "qwen2.5:7b"},
    )
    assert (config.provider, config.model, config.api_key) == ("openai", "qwen2.5:7b", None)


def test_precedence_cli_over_env_over_pyproject(tmp_path: Path) -> None:
    project = tmp_path / "course"
    write_pyproject(
        project,
        """
[tool.author]
base_url = "http://toml:1/v1"
model = "toml-model"
temperature = 0.3
max_retries = 4
price_in = 0.15
price_out = 0.6
records = "lessons"   # someone else's setting: ignored here
""",
    )
    nested = project / "lessons" / "series-1"
    nested.mkdir(parents=True)

    from_toml = load_config(project_root=nested, env={})
    assert (from_toml.base_url, from_toml.model, from_toml.temperature) == (
        "http://toml:1/v1",
        "toml-model",
        0.3,
    )
    assert (from_toml.max_retries, from_toml.price_in, from_toml.price_out) == (4, 0.15, 0.6)
    assert from_toml.cache_path == nested.resolve() / ".author" / "cache.sqlite"

    env = {"OPENAI_BASE_URL": "http://env:2/v1", "AUTHOR_MODEL": "env-model"}
    from_env = load_config(project_root=nested, env=env)
    assert (from_env.base_url, from_env.model, from_env.temperature) == (
        "http://env:2/v1",
        "env-model",
        0.3,
    )

    from_cli = load_config(
        project_root=nested, env=env, model="cli-model", temperature=0.0, cache=False
    )
    assert (from_cli.base_url, from_cli.model, from_cli.temperature, from_cli.cache) == (
        "http://env:2/v1",
        "cli-model",
        0.0,
        False,
    )


def test_settings_and_cache_come_from_the_nearest_author_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pyproject(tmp_path, '[tool.author]\nmodel = "outer"\nbase_url = "http://x/v1"\n')
    package = tmp_path / "course"
    write_pyproject(package, '[project]\nname = "not-ours"\n')  # no [tool.author]: skipped
    inside = package / "lessons"
    inside.mkdir()
    monkeypatch.chdir(inside)
    config = load_config(env={})
    assert config.model == "outer"
    # no project_root given: the cache sits beside the [tool.author] pyproject.toml
    assert config.cache_path == tmp_path.resolve() / ".author" / "cache.sqlite"


def test_provider_can_be_forced_local(tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "sk-x", "AUTHOR_PROVIDER": "local"}
    assert load_config(project_root=tmp_path, env=env).provider == "local"
    assert load_config(project_root=tmp_path, env=env, provider="openai").provider == "openai"


def test_local_model_paths(tmp_path: Path) -> None:
    gguf = tmp_path / "models" / "tiny.gguf"
    config = load_config(project_root=tmp_path, env={"AUTHOR_LOCAL_MODEL": str(gguf)})
    assert (config.local_model, config.model) == (gguf.resolve(), "tiny")
    write_pyproject(tmp_path, '[tool.author]\nlocal_model = "models/other.gguf"\n')
    config = load_config(project_root=tmp_path, env={})
    assert config.local_model == (tmp_path / "models" / "other.gguf").resolve()


def test_api_key_in_pyproject_is_refused(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.author]\napi_key = "sk-committed"\n')
    with pytest.raises(LLMError) as caught:
        load_config(project_root=tmp_path, env={})
    assert "OPENAI_API_KEY" in str(caught.value) and "sk-committed" not in str(caught.value)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('temperature = "hot"', "temperature must be a number"),
        ("cache = 1", "cache must be true or false"),
        ("max_retries = true", "max_retries must be an integer"),
        ('provider = "anthropic"', "unknown LLM provider 'anthropic'"),
        ("max_attempts = 0", "max_attempts must be 1 or more"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, line: str, needle: str) -> None:
    write_pyproject(tmp_path, f"[tool.author]\n{line}\n")
    with pytest.raises(LLMError, match=needle):
        load_config(project_root=tmp_path, env={})


def test_unreadable_pyproject_is_a_clear_error(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, "[tool.author\n")
    with pytest.raises(LLMError, match=str(path)):
        load_config(project_root=tmp_path, env={})


def test_config_repr_hides_the_key(tmp_path: Path) -> None:
    config = load_config(project_root=tmp_path, env={}, api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(config)
