"""The records tree on disk: the one place that knows the folder convention.

::

    ROOT/course.md
    ROOT/series-7/plan.md
    ROOT/series-7/module-7-4/plan.md
    ROOT/series-7/module-7-4/record.md
    ROOT/series-7/module-7-4/lessons/<slug>.md      (lesson planning document)
    ROOT/series-7/module-7-4/build/                 (built lesson + notebook)

Course order is series number order, then the series plan's lesson order.  A
series folder without a ``plan.md`` (some real courses keep only a summary
there) falls back to its module folders in number order and each module
plan's lesson sequence, so its lessons still have a place in the course.

Everything else in the project asks :class:`CourseTree` for paths and parsed
models; nothing else builds a records path by hand.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lesson_author.course import parse
from lesson_author.course.markdown import Fences
from lesson_author.course.models import (
    Course,
    LessonPlan,
    LessonRef,
    ModulePlan,
    ModuleRecord,
    SeriesPlan,
)
from lesson_author.errors import RecordsError, UserError
from lesson_author.text.words import strip_emphasis

SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
SERIES_DIR = re.compile(r"series-(\d+)")
MODULE_DIR = re.compile(r"module-(\d+)-(\d+)")

COURSE_FILE = "course.md"
PLAN_FILE = "plan.md"
RECORD_FILE = "record.md"
LESSONS_DIR = "lessons"
BUILD_DIR = "build"

T = TypeVar("T")


# ---------------------------------------------------------------- small, pure helpers


def validate_slug(slug: str) -> str:
    """Return ``slug`` when it is a lesson slug; :class:`UserError` for anything path-like."""
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        shown = slug if isinstance(slug, str) else repr(slug)
        raise UserError(
            f"invalid lesson slug '{shown}': use lowercase letters, digits and hyphens "
            "(a slug, not a path)"
        )
    return slug


def lesson_slugs(cell: str) -> list[str]:
    """The lesson slugs a record's Lesson cell names, in the order written.

    ``sdxl`` -> ``["sdxl"]``; ``gradient-descent, loss-functions`` and
    ``building-a-cnn -> mnist-cnn-project`` name two; parenthetical notes
    (``constitutional-ai (recap from 4.4)``) and markdown decoration are ignored.
    """
    text = re.sub(r"\([^)]*\)", " ", cell)
    text = strip_emphasis(text)
    return re.findall(r"(?<![A-Za-z0-9-])[a-z0-9][a-z0-9-]*(?![A-Za-z0-9-])", text)


def module_id_key(module: str) -> tuple[int, ...]:
    """Sort key for ``"7.4"``-style ids (numeric, so 7.10 follows 7.9)."""
    return tuple(int(p) if p.isdigit() else 0 for p in module.split("."))


def series_of(module: str) -> str:
    return module.split(".")[0]


def series_dir_name(series: str) -> str:
    return f"series-{series}"


def module_dir_name(module: str) -> str:
    return "module-" + module.replace(".", "-")


def _umask() -> int:
    """The process umask (reading it means setting it, so never call this from worker threads)."""
    current = os.umask(0)
    os.umask(current)
    return current


_UMASK_AT_IMPORT = _umask()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` via a temp file and ``os.replace``.

    A reader never sees a half-written file; on any error the old file is intact
    and the temp file is removed.  An existing file keeps its permission bits; a
    new one gets ``0o666`` less the umask (``mkstemp`` alone leaves it owner-only).
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK_AT_IMPORT
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)  # the rename itself survives a power cut


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform that cannot open folders (Windows): nothing to sync
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


ROW_CELLS = re.compile(r"(?<!\\)\|")


def ensure_complete(text: str, path: Path) -> None:
    """:class:`RecordsError` when a record file looks cut off while being written.

    The parser forgives tables with missing cells; this catches the one shape
    no author writes on purpose: a table row that has fewer cells than its
    header *and* no closing ``|`` -- a row (and usually the file) cut short.
    None of the 159 corpus files, the seeds or the example course has one.
    """
    header_cells: int | None = None
    fences = Fences()
    for number, line in enumerate(text.split("\n"), start=1):
        if fences.fence_line(line):
            header_cells = None
            continue
        stripped = line.strip()
        if fences.inside or not stripped.startswith("|"):
            header_cells = None
            continue
        cells = len(ROW_CELLS.split(stripped.strip("|")))
        if header_cells is None:
            header_cells = cells
            continue
        closed = stripped.endswith("|") and not stripped.endswith("\\|")
        if not closed and cells < header_cells:
            raise RecordsError(
                f"table row has {cells} of {header_cells} cells and no closing '|': "
                "the file looks cut off (finish or remove the row)",
                path=path,
                line=number,
            )


# ---------------------------------------------------------------- finding the records dir


def _author_table(pyproject: Path) -> dict[str, Any] | None:
    """The ``[tool.author]`` table of a pyproject.toml, or None when it has none."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError("not valid UTF-8", path=pyproject) from exc
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"invalid TOML: {exc}", path=pyproject) from exc
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror}", path=pyproject) from exc
    table = data.get("tool", {}).get("author")
    return table if isinstance(table, dict) else None


def _author_pyproject(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.author]`` table."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            table = _author_table(candidate)
            if table is not None:
                return candidate, table
    return None


def _existing_dir(path: Path, what: str) -> Path:
    if not path.exists():
        raise UserError(f"{what} does not exist", path=path)
    if not path.is_dir():
        raise UserError(f"{what} is not a directory", path=path)
    return path


def find_records_dir(option: Path | None, cwd: Path) -> Path:
    """The records tree to work on.

    ``--records``/PATH (relative to ``cwd``) wins; then ``records = "..."`` in the
    ``[tool.author]`` table of the nearest pyproject.toml upwards from ``cwd``
    (relative to that file); then ``./lessons``.  :class:`UserError` when the
    chosen folder is missing or not a directory.
    """
    cwd = Path(cwd)
    if option is not None:
        return _existing_dir(cwd / Path(option), "records directory")
    found = _author_pyproject(cwd.resolve())
    if found is not None:
        pyproject, table = found
        records = table.get("records")
        if records is not None:
            if not isinstance(records, str) or not records.strip():
                raise UserError("[tool.author] records must be a path string", path=pyproject)
            return _existing_dir(
                pyproject.parent / records,
                f"records directory (from [tool.author] in {pyproject})",
            )
    return _existing_dir(cwd / "lessons", "records directory (default ./lessons)")


def project_root(records_dir: Path) -> Path:
    """Where ``.author/`` and ``reviews/`` live: the ``[tool.author]`` project, else the parent."""
    records_dir = Path(records_dir).resolve()
    found = _author_pyproject(records_dir)
    if found is not None:
        return found[0].parent
    return records_dir.parent


# ---------------------------------------------------------------- locations


@dataclass(frozen=True)
class LessonLocation:
    """Where one lesson lives and where it sits in the course."""

    slug: str
    series: str
    module: str
    ref: LessonRef
    series_plan_path: Path
    module_dir: Path
    module_plan_path: Path
    record_path: Path
    plan_path: Path
    build_dir: Path
    position_in_module: int
    module_size: int
    position_in_series: int
    series_size: int

    @property
    def position_text(self) -> str:
        """``"Lesson 12 of 12 in series, Lesson 4 of 4 in module"`` (the seed's Position line)."""
        return (
            f"Lesson {self.position_in_series} of {self.series_size} in series, "
            f"Lesson {self.position_in_module} of {self.module_size} in module"
        )


# ---------------------------------------------------------------- the tree


class CourseTree:
    """A records tree: paths by convention, parsed models cached by path + mtime."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._cache: dict[Path, tuple[tuple[int, int], Any]] = {}
        self._order: tuple[tuple[Any, ...], list[LessonLocation]] | None = None

    @classmethod
    def open(cls, root: Path) -> CourseTree:
        root = Path(root)
        if not root.exists():
            raise RecordsError("records directory does not exist", path=root)
        if not root.is_dir():
            raise RecordsError("records directory is not a directory", path=root)
        return cls(root)

    def __repr__(self) -> str:
        return f"CourseTree({str(self.root)!r})"

    # ---------------------------------------------------------------- paths

    @property
    def course_path(self) -> Path:
        return self.root / COURSE_FILE

    def series_dir(self, series: str) -> Path:
        return self.root / series_dir_name(series)

    def series_plan_path(self, series: str) -> Path:
        return self.series_dir(series) / PLAN_FILE

    def module_dir(self, module: str) -> Path:
        return self.series_dir(series_of(module)) / module_dir_name(module)

    def module_plan_path(self, module: str) -> Path:
        return self.module_dir(module) / PLAN_FILE

    def record_path(self, module: str) -> Path:
        return self.module_dir(module) / RECORD_FILE

    def module_lesson_path(self, module: str, slug: str) -> Path:
        """Where a lesson of ``module`` keeps its planning document."""
        return self.module_dir(module) / LESSONS_DIR / f"{validate_slug(slug)}.md"

    def series_numbers(self) -> list[str]:
        """Series on disk (``series-N`` folders), in number order."""
        found = []
        for child in self.root.iterdir():
            m = SERIES_DIR.fullmatch(child.name)
            if m and child.is_dir():
                found.append(str(int(m.group(1))))
        return sorted(found, key=int)

    def module_ids(self, series: str | None = None) -> list[str]:
        """Modules on disk (``module-S-M`` folders), in number order."""
        found = []
        for s in [series] if series is not None else self.series_numbers():
            folder = self.series_dir(s)
            if not folder.is_dir():
                continue
            for child in folder.iterdir():
                m = MODULE_DIR.fullmatch(child.name)
                if m and child.is_dir():
                    found.append(f"{int(m.group(1))}.{int(m.group(2))}")
        return sorted(found, key=module_id_key)

    def record_files(self) -> list[Path]:
        """Every markdown file of the tree that ``author`` reads, in course order."""
        files = []
        if self.course_path.is_file():
            files.append(self.course_path)
        for s in self.series_numbers():
            if self.series_plan_path(s).is_file():
                files.append(self.series_plan_path(s))
            for m in self.module_ids(s):
                for p in (self.module_plan_path(m), self.record_path(m)):
                    if p.is_file():
                        files.append(p)
                lessons = self.module_dir(m) / LESSONS_DIR
                if lessons.is_dir():
                    files.extend(sorted(lessons.glob("*.md")))
        return files

    def lesson_plan_files(self) -> list[Path]:
        return [p for p in self.record_files() if p.parent.name == LESSONS_DIR]

    # ---------------------------------------------------------------- parsing (cached)

    def _load(self, path: Path, parser: Callable[[str, Path], T]) -> T:
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise RecordsError("file does not exist", path=path) from exc
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text = parse.read_text(path)
        ensure_complete(text, path)
        model = parser(text, path)
        self._cache[path] = (stamp, model)
        return model

    def _maybe(self, path: Path, parser: Callable[[str, Path], T]) -> T | None:
        return self._load(path, parser) if path.is_file() else None

    def course(self) -> Course | None:
        """``course.md``, or None when the tree has none."""
        return self._maybe(self.course_path, parse.parse_course)

    def series_plan(self, series: str) -> SeriesPlan | None:
        return self._maybe(self.series_plan_path(series), parse.parse_series_plan)

    def series_plans(self) -> list[tuple[Path, SeriesPlan]]:
        """Every series plan, in series number order."""
        found = []
        for s in self.series_numbers():
            path = self.series_plan_path(s)
            if path.is_file():
                found.append((path, self._load(path, parse.parse_series_plan)))
        return found

    def module_plan(self, module: str) -> ModulePlan | None:
        return self._maybe(self.module_plan_path(module), parse.parse_module_plan)

    def module_record(self, module: str) -> ModuleRecord | None:
        return self._maybe(self.record_path(module), parse.parse_module_record)

    def lesson_plan_at(self, path: Path) -> LessonPlan:
        return self._load(path, parse.parse_lesson_plan)

    def lesson_plan(self, slug: str) -> LessonPlan | None:
        """The lesson's planning document, or None when it has not been written yet."""
        path = self.lesson_plan_path(slug)
        return self._maybe(path, parse.parse_lesson_plan) if path is not None else None

    def lesson_plan_path(self, slug: str) -> Path | None:
        """Where the lesson's planning document is (or would be); None for an unknown slug
        that has no planning document anywhere in the tree."""
        validate_slug(slug)
        location = self._find(slug)
        if location is not None:
            return location.plan_path
        for s in self.series_numbers():
            for m in self.module_ids(s):
                candidate = self.module_dir(m) / LESSONS_DIR / f"{slug}.md"
                if candidate.is_file():
                    return candidate
        return None

    # ---------------------------------------------------------------- course order

    def _order_stamp(self) -> tuple[Any, ...]:
        stamp: list[Any] = []
        for s in self.series_numbers():
            for p in [self.series_plan_path(s)] + [
                self.module_plan_path(m) for m in self.module_ids(s)
            ]:
                try:
                    st = p.stat()
                    stamp.append((str(p), st.st_mtime_ns, st.st_size))
                except FileNotFoundError:
                    stamp.append((str(p), None))
        return tuple(stamp)

    def lessons_in_order(self) -> list[LessonLocation]:
        """Every planned lesson in course order (series number order, then plan order)."""
        stamp = self._order_stamp()
        if self._order is not None and self._order[0] == stamp:
            return list(self._order[1])
        order: list[LessonLocation] = []
        for s in self.series_numbers():
            refs = self._series_lessons(s)
            by_module: dict[str, list[LessonRef]] = {}
            for ref in refs:
                by_module.setdefault(ref.module, []).append(ref)
            for i, ref in enumerate(refs, start=1):
                siblings = by_module[ref.module]
                order.append(
                    self._location(s, ref, i, len(refs), siblings.index(ref) + 1, len(siblings))
                )
        self._order = (stamp, order)
        return list(order)

    def _series_lessons(self, series: str) -> list[LessonRef]:
        """The series' lessons in order: its plan's lesson tables, else its module plans'."""
        plan = self.series_plan(series)
        if plan is not None:
            return [ref for ref in plan.lessons if SLUG.fullmatch(ref.slug)]
        refs: list[LessonRef] = []
        for m in self.module_ids(series):
            module_plan = self.module_plan(m)
            if module_plan is None:
                continue
            for row in module_plan.sequence:
                slug = _slug_in(row.lesson)
                if slug:
                    refs.append(
                        LessonRef(slug=slug, title=row.core_concept, module=m, line=row.line)
                    )
        return refs

    def _location(
        self, series: str, ref: LessonRef, pos_s: int, size_s: int, pos_m: int, size_m: int
    ) -> LessonLocation:
        module_dir = self.module_dir(ref.module)
        return LessonLocation(
            slug=ref.slug,
            series=series,
            module=ref.module,
            ref=ref,
            series_plan_path=self.series_plan_path(series),
            module_dir=module_dir,
            module_plan_path=module_dir / PLAN_FILE,
            record_path=module_dir / RECORD_FILE,
            plan_path=module_dir / LESSONS_DIR / f"{ref.slug}.md",
            build_dir=module_dir / BUILD_DIR,
            position_in_module=pos_m,
            module_size=size_m,
            position_in_series=pos_s,
            series_size=size_s,
        )

    def _find(self, slug: str) -> LessonLocation | None:
        return next((loc for loc in self.lessons_in_order() if loc.slug == slug), None)

    def locate(self, slug: str) -> LessonLocation:
        """Where ``slug`` lives; :class:`UserError` when no series plan lists it."""
        validate_slug(slug)
        location = self._find(slug)
        if location is None:
            raise UserError(
                f"unknown lesson slug '{slug}' (not in any series plan under {self.root})"
            )
        return location

    def module_lessons(self, module: str) -> list[LessonLocation]:
        """The planned lessons of one module, in order."""
        return [loc for loc in self.lessons_in_order() if loc.module == module]

    def planned_modules(self) -> list[str]:
        """Every module a plan lists or a folder holds, in number order."""
        found = set(self.module_ids())
        for _, plan in self.series_plans():
            found.update(row.module for row in plan.modules if _module_like(row.module))
            found.update(ref.module for ref in plan.lessons)
        return sorted(found, key=module_id_key)


def _slug_in(cell: str) -> str | None:
    """A slug written in a table cell (``sdxl``, ```sdxl```, ``Lesson 1: SDXL (`sdxl`)``)."""
    text = cell.strip().strip("*").strip()
    bare = text.strip("`")
    if SLUG.fullmatch(bare):
        return bare
    m = re.search(r"`([a-z0-9][a-z0-9-]*)`", text)
    return m.group(1) if m else None


def _module_like(text: str) -> bool:
    return re.fullmatch(r"\d+\.\d+", text.strip()) is not None
