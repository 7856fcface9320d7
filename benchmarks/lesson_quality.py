"""What `author lesson z-image` gives with a local model: time, tokens and the quality figures.

    .venv/bin/python benchmarks/lesson_quality.py [--model path.gguf] [--keep DIR] [--timeout S]

Runs the README's main job, `author lesson z-image`, cold (fresh copy of the example course
in `lessons/`, empty response cache) with AUTHOR_LOCAL_MODEL = --model (default: the bundled
SmolLM2-135M), and prints:

- per phase: runs, wall time, model calls, tokens in/out;
- the model's own limit measured in the same run (llama.cpp's prompt and decode rates, and
  what the run's tokens cost at those rates) and the wall time as a ratio to it;
- fields left as NO_ANSWER (degenerate after every attempt), per phase and field;
- the strings the degenerate-text detector flags in the planning document (scan_markdown)
  and in the lesson (scan_markdown on the MDX; find_degenerate on each notebook cell), and the
  last review's degenerate-text findings (it reads the rendered sections, components too);
- the planning document's checklist results, and the verdict per iteration.

With --json the same figures are printed as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLUG = "z-image"
LIMIT_S = 360.0  # the target for the cold main job: under 6 minutes on 2 cores


def author_command() -> list[str]:
    script = Path(sys.executable).with_name("author")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from lesson_author.cli import app; app()"]


def degenerate_in_documents(project: Path, written: list[str]) -> dict[str, Any]:
    """Flagged strings per written document: planning document and MDX by scan_markdown, the
    notebook cell by cell (code cells as code)."""
    import nbformat

    from lesson_author.text.degenerate import find_degenerate, scan_markdown

    found: dict[str, Any] = {}
    for name in written:
        path = project / name
        if not path.is_file():
            path = project / "lessons" / name
        if not path.is_file():
            continue
        flags: list[str] = []
        if path.suffix in (".md", ".mdx"):
            for span in scan_markdown(path.read_text(encoding="utf-8")):
                flags.append(f"line {span.line}: {span.reason}")
        elif path.suffix == ".ipynb":
            notebook = nbformat.read(str(path), as_version=4)
            for number, cell in enumerate(notebook.cells, start=1):
                for reason in find_degenerate(cell.source, code=cell.cell_type == "code")[:1]:
                    flags.append(f"cell {number}: {reason}")
        else:
            continue
        found[name] = flags
    return found


def checklist_results(records: Path) -> list[dict[str, Any]]:
    from lesson_author.course.tree import CourseTree

    plan = CourseTree(records).lesson_plan(SLUG)
    if plan is None:
        return []
    return [
        {
            "checklist": c.title,
            "passed": sum(i.checked for i in c.items),
            "of": len(c.items),
            "failed": [i.text for i in c.items if not i.checked],
        }
        for c in plan.checklists
    ]


def run(model: Path | None, folder: Path, timeout: float) -> dict[str, Any]:
    project = folder / "course"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copytree(ROOT / "lessons", project / "lessons")
    env = dict(os.environ)
    env.pop("OPENAI_BASE_URL", None)
    env.pop("OPENAI_API_KEY", None)
    if model is not None:
        env["AUTHOR_LOCAL_MODEL"] = str(model)
    command = [*author_command(), "lesson", SLUG, "--records", str(project / "lessons"), "--json"]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "wall_s": timeout}
    wall = time.perf_counter() - started
    summary_path = project / ".author" / "runs" / f"{SLUG}.json"
    if not summary_path.is_file():
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-600:]}", "wall_s": wall}
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    usage = summary.get("usage", {})
    phases: dict[str, dict[str, float]] = {}
    for node in summary.get("nodes", []):
        row = phases.setdefault(
            node["node"], {"runs": 0, "wall_s": 0.0, "calls": 0, "tokens_in": 0, "tokens_out": 0}
        )
        row["runs"] += 1
        row["wall_s"] += node.get("elapsed_s", 0.0)
        row["calls"] += node.get("calls", 0)
        row["tokens_in"] += node.get("prompt_tokens", 0)
        row["tokens_out"] += node.get("completion_tokens", 0)
    speed = summary.get("speed") or usage.get("speed")
    documents = degenerate_in_documents(project, summary.get("written", []))
    return {
        "model": str(model) if model else "bundled SmolLM2-135M-Instruct Q4_1",
        "exit": done.returncode,
        "wall_s": round(wall, 1),
        "limit_ratio": round(wall / LIMIT_S, 2),
        "phases": phases,
        "speed": speed,
        "no_answer": (usage.get("total") or {}).get("no_answer", {}),
        "degenerate_replies": (usage.get("total") or {}).get("degenerate_replies", 0),
        "degenerate_in_documents": documents,
        "flagged_strings": sum(len(v) for v in documents.values()),
        "checklists": checklist_results(project / "lessons"),
        "iterations": summary.get("iterations", []),
        "review_degenerate": last_review_rule(project, "degenerate-text"),
        "status": summary.get("status"),
    }


def last_review_rule(project: Path, rule: str) -> list[str]:
    """The last review's findings of `rule`: the review reads each rendered section of the
    lesson (components' text included), which scan_markdown on the MDX source does not."""
    reviews = sorted(
        (project / "reviews" / SLUG).glob("iteration-*.json"),
        key=lambda p: int(p.stem.rsplit("-", 1)[1]),
    )
    if not reviews:
        return []
    data = json.loads(reviews[-1].read_text(encoding="utf-8"))
    return [
        f"{f.get('location', '')}: {f.get('issue', '')[:110]}"
        for f in data.get("findings", [])
        if f.get("rule") == rule
    ]


def print_report(result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"run failed: {result['error']}")
        return
    print(f"model: {result['model']}")
    print(
        f"wall {result['wall_s']:.1f} s (exit {result['exit']}, status {result['status']}); "
        f"{result['limit_ratio']:.2f}x the 6-minute target"
    )
    print(f"  {'phase':<10} {'runs':>4} {'wall s':>8} {'calls':>6} {'tok in':>8} {'tok out':>8}")
    for name, row in result["phases"].items():
        print(
            f"  {name:<10} {row['runs']:>4} {row['wall_s']:>8.1f} {row['calls']:>6} "
            f"{row['tokens_in']:>8} {row['tokens_out']:>8}"
        )
    speed = result.get("speed")
    if speed:
        total = speed["total"]
        print(
            f"model limit: {total['prompt_tokens']} tok in / {total['prompt_tps']} tok/s + "
            f"{total['completion_tokens']} tok out / {total['decode_tps']} tok/s = "
            f"{total['limit_s']:.1f} s; wall {total['wall_s']:.1f} s = {total['ratio']}x the "
            f"limit (in model calls {total['generate_s']:.1f} s, of which sampling+grammar "
            f"{total['sampling_s']:.1f} s; {total['reused_prompt_tokens']} prompt tokens reused)"
        )
        for phase, row in speed["phases"].items():
            print(
                f"  {phase:<24} {row['prompt_tokens']:>6} in @ {row['prompt_tps']:>7} tok/s "
                f"{row['completion_tokens']:>6} out @ {row['decode_tps']:>6} tok/s  "
                f"limit {row['limit_s']:>6.1f} s  in calls {row['generate_s']:>6.1f} s "
                f"({row['ratio']}x)"
            )
    print(f"replies refused as degenerate: {result['degenerate_replies']}")
    no_answer = result["no_answer"]
    print(f"fields left as '(no usable answer)': {sum(no_answer.values())}")
    for field, times in no_answer.items():
        print(f"  {field}: {times}")
    print(f"strings the degenerate-text detector flags: {result['flagged_strings']}")
    for name, flags in result["degenerate_in_documents"].items():
        print(f"  {name}: {len(flags)}")
        for flag in flags[:5]:
            print(f"    {flag}")
    review_flags = result.get("review_degenerate", [])
    print(f"the last review's degenerate-text findings (rendered sections): {len(review_flags)}")
    for flag in review_flags[:5]:
        print(f"  {flag}")
    for c in result["checklists"]:
        print(f"checklist {c['checklist']}: {c['passed']}/{c['of']}")
        for text in c["failed"]:
            print(f"  [ ] {text[:110]}")
    for it in result["iterations"]:
        counts = ", ".join(f"{n} {s}" for s, n in it["counts"].items() if n) or "no findings"
        print(f"iteration {it['iteration']}: {it['verdict']} ({counts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the bundled model)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds (default 3600)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lesson-quality-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result = run(args.model, folder, args.timeout)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)


if __name__ == "__main__":
    main()
