"""The README's first bash block is what .ci/run runs: two commands, the main job then the
tests. .ci/run extracts them the same way (lines that are neither blank nor '#' comments)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```bash[ \t]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block is not None, "README.md has no ```bash block"
    lines = block.group(1).splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_block_holds_the_main_job_then_the_tests() -> None:
    first, second = readme_commands()
    assert "author lesson z-image" in first
    assert "pytest" in second


def test_ci_run_extracts_the_same_two_commands() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    extract = re.search(r"mapfile -t commands < <\((.*?)\n\)", script, re.DOTALL)
    assert extract is not None, ".ci/run no longer reads the commands from the README"
    done = subprocess.run(
        ["bash", "-c", extract.group(1)], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == readme_commands()
