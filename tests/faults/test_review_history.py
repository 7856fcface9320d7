"""A planning document cut short inside its first review: `author review` adds the next
iteration after every one on disk and leaves the earlier review files as they were."""

from __future__ import annotations

import re
from pathlib import Path

from fault_helpers import endpoint_args, run_author

PLAN = Path("lessons/series-7/module-7-4/lessons/z-image.md")


def test_review_history_survives_a_cut_short_planning_document(project: Path, endpoint) -> None:
    server = endpoint()
    done = run_author(project, "lesson", "z-image", *endpoint_args(server))
    assert done.returncode in (0, 3), done.stderr
    folder = project / "reviews" / "z-image"
    history = {p.name: p.read_bytes() for p in folder.glob("iteration-*")}
    assert sorted(history) == [f"iteration-{n}.{x}" for n in (1, 2, 3) for x in ("json", "md")]

    plan = project / PLAN
    text = plan.read_text(encoding="utf-8")
    second = re.search(r"^## Review .*\(Iteration 2/", text, re.MULTILINE)
    assert second is not None
    plan.write_text(text[: second.start()], encoding="utf-8")  # cut inside iteration 1

    again = run_author(project, "review", "z-image", *endpoint_args(server))
    assert again.returncode in (0, 3), again.stderr
    assert "iteration 4/" in again.stdout
    for name, data in history.items():  # nothing deleted, nothing overwritten
        assert (folder / name).read_bytes() == data, name
    assert (folder / "iteration-4.json").is_file() and (folder / "iteration-4.md").is_file()
    assert not (folder / "superseded").exists()

    listed = run_author(project, "findings", "z-image", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"iteration": 4' in listed.stdout and '"iteration": 2' in listed.stdout
