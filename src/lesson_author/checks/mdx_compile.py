"""``mdx-compile``: the lesson compiles with the reference MDX compiler (``@mdx-js/mdx`` 3).

The compiler runs under Node from ``tools/mdx`` (``npm ci --prefix tools/mdx`` installs the
pinned version; ``tools/mdx/check.mjs`` compiles files and prints errors as JSON). One node
process per review compiles every file given; results are cached by content hash in
``.author/mdx-cache.json`` so that an unchanged lesson is not compiled twice.

Where Node or the installed compiler is absent, the rule reports that the lesson was **not**
compiled (POLISH, ``MDX not compiled``): a skipped check never reads as a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lesson_author.checks import registry as R
from lesson_author.checks.inputs import ReviewInput
from lesson_author.course.models import Finding, Severity

ENV_MDX_TOOL = "AUTHOR_MDX_TOOL"
CACHE_FILE = "mdx-cache.json"
CACHE_ENTRIES = 500  # the newest compile results kept
TIMEOUT_S = 120


@dataclass(frozen=True)
class MdxError:
    line: int | None
    column: int | None
    message: str


@dataclass(frozen=True)
class MdxResult:
    compiled: bool  # False: not compiled at all (see ``why``)
    errors: tuple[MdxError, ...] = ()
    why: str = ""


def find_tool(start: Path | None = None) -> Path | None:
    """The ``tools/mdx`` folder: ``AUTHOR_MDX_TOOL``, else upwards from ``start``, else the
    source checkout this package was installed from."""
    env = os.environ.get(ENV_MDX_TOOL)
    if env:
        return Path(env)
    roots = []
    if start is not None:
        roots += [Path(start).resolve(), *Path(start).resolve().parents]
    roots += list(Path(__file__).resolve().parents)
    for root in roots:
        candidate = root / "tools" / "mdx" / "check.mjs"
        if candidate.is_file():
            return candidate.parent
    return None


def _unavailable(tool: Path | None) -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH"
    if tool is None:
        return "tools/mdx/check.mjs was not found"
    if not (tool / "node_modules" / "@mdx-js" / "mdx").is_dir():
        return f"the compiler is not installed (run `npm ci --prefix {tool}`)"
    return None


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _load_cache(cache_dir: Path | None) -> dict[str, list[dict]]:
    if cache_dir is None:
        return {}
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_cache(cache_dir: Path | None, cache: dict[str, list[dict]]) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{CACHE_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(cache), encoding="utf-8")
        tmp.replace(cache_dir / CACHE_FILE)
    except OSError:
        pass  # a cache that cannot be written only costs time


def compile_mdx(
    texts: list[str], *, tool: Path | None = None, cache_dir: Path | None = None
) -> list[MdxResult]:
    """Compile each MDX text (one node process for all that are not cached)."""
    tool = tool or find_tool(cache_dir)
    why = _unavailable(tool)
    if why is not None:
        return [MdxResult(compiled=False, why=why) for _ in texts]
    cache = _load_cache(cache_dir)
    todo = [t for t in dict.fromkeys(texts) if _key(t) not in cache]
    if todo:
        with tempfile.TemporaryDirectory(prefix="author-mdx-") as tmp:
            paths = []
            for i, text in enumerate(todo):
                path = Path(tmp) / f"lesson-{i}.mdx"
                path.write_text(text, encoding="utf-8")
                paths.append(str(path))
            try:
                proc = subprocess.run(
                    ["node", str(tool / "check.mjs"), *paths],  # type: ignore[operator]
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_S,
                    check=False,
                    cwd=tool,
                )
                results = json.loads(proc.stdout)
            except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
                why = f"the compiler did not run ({' '.join(str(exc).split())[:160]})"
                return [MdxResult(compiled=False, why=why) for _ in texts]
        for text, result in zip(todo, results, strict=False):
            cache[_key(text)] = result.get("errors", [])
        _save_cache(cache_dir, dict(list(cache.items())[-CACHE_ENTRIES:]))
    out = []
    for text in texts:
        errors = cache.get(_key(text))
        if errors is None:
            out.append(MdxResult(compiled=False, why="the compiler gave no result"))
            continue
        out.append(
            MdxResult(
                compiled=True,
                errors=tuple(
                    MdxError(e.get("line"), e.get("column"), str(e.get("message", "")))
                    for e in errors
                ),
            )
        )
    return out


def _section_at(inp: ReviewInput, text: str, line: int | None) -> str:
    from lesson_author.checks.content import _headings, _label_at

    if line is None:
        return "Whole lesson"
    return _label_at(inp, line, _headings(text))


@R.check(R.MDX_COMPILE)
def mdx_compiles(inp: ReviewInput) -> list[Finding]:
    text = inp.files.lesson_text
    if text is None:
        return []
    path = inp.files.lesson_path
    (result,) = compile_mdx([text], tool=inp.options.mdx_tool, cache_dir=inp.options.cache_dir)
    if not result.compiled:
        return [
            R.MDX_COMPILE.finding(
                severity=Severity.POLISH,
                title="MDX not compiled: the check was skipped",
                location="Whole lesson",
                issue=(
                    f"`{path}` was NOT compiled with @mdx-js/mdx ({result.why}); whether it "
                    "renders is unknown."
                ),
                student_impact="Unknown: a lesson that does not compile shows the student nothing.",
                suggested_fix="Install Node and run `npm ci --prefix tools/mdx`, then review again.",
            )
        ]
    found = []
    for error in result.errors:
        message = re.sub(r"\s*\(\d+:\d+(?:-\d+:\d+)?\)\s*$", "", error.message)
        at = f"line {error.line}" + (f", column {error.column}" if error.column else "")
        found.append(
            R.MDX_COMPILE.finding(
                title="Lesson MDX does not compile",
                location=_section_at(inp, text, error.line),
                issue=f"@mdx-js/mdx stops at `{path}` {at}: {message}",
                student_impact="The lesson page does not build; the student sees nothing of it.",
                suggested_fix="Fix the MDX there (close the tag, escape `{`, `}` or `<` in text).",
            )
        )
    return found
