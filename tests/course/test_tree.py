"""The records tree on disk: slugs, finding the records dir, atomic writes, locating lessons."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lesson_author.course.tree import (
    CourseTree,
    find_records_dir,
    project_root,
    validate_slug,
    write_atomic,
)
from lesson_author.errors import RecordsError, UserError


def seed_tree(seeds: Path, root: Path, record: str = "002") -> Path:
    """Seeds 003 (series plan), 000 (module plan), 002/001 (record), 004 (z-image) as a tree."""
    files = {p.name[:3]: p for p in seeds.glob("*.txt")}
    module = root / "series-7" / "module-7-4"
    (module / "lessons").mkdir(parents=True)
    shutil.copy(files["003"], root / "series-7" / "plan.md")
    shutil.copy(files["000"], module / "plan.md")
    shutil.copy(files[record], module / "record.md")
    shutil.copy(files["004"], module / "lessons" / "z-image.md")
    return root


# ---------------------------------------------------------------- slugs


@pytest.mark.parametrize("slug", ["z-image", "sdxl", "sd3-and-flux", "7-4-2", "a"])
def test_slugs_are_accepted(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "../x",
        "..",
        "/etc/passwd",
        "a/b",
        "a\\b",
        "Z-Image",
        "-lead",
        "z image",
        "z_image",
        "x.md",
    ],
)
def test_path_like_slugs_are_rejected(slug: str) -> None:
    with pytest.raises(UserError) as err:
        validate_slug(slug)
    assert "slug" in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------- records dir


def test_records_option_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "configured").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.author]\nrecords = "configured"\n')
    assert find_records_dir(Path("mine"), tmp_path) == tmp_path / "mine"


def test_pyproject_records_is_relative_to_that_file(tmp_path: Path) -> None:
    (tmp_path / "course-records").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.author]\nrecords = "course-records"\n'
    )
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_records_dir(None, deep) == tmp_path / "course-records"
    assert project_root(tmp_path / "course-records") == tmp_path.resolve()


def test_a_nearer_pyproject_without_tool_author_does_not_hide_the_configured_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "records").mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.author]\nrecords = "records"\n')
    sub = tmp_path / "pkg"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    assert find_records_dir(None, sub) == tmp_path / "records"


def test_default_is_lessons_in_cwd(tmp_path: Path) -> None:
    (tmp_path / "lessons").mkdir()
    assert find_records_dir(None, tmp_path) == tmp_path / "lessons"
    assert project_root(tmp_path / "lessons") == tmp_path.resolve()


def test_missing_records_dir_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        find_records_dir(Path("nowhere"), tmp_path)
    assert "nowhere" in str(err.value) and "does not exist" in str(err.value)
    with pytest.raises(UserError, match="default ./lessons"):
        find_records_dir(None, tmp_path)


def test_records_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(UserError, match="not a directory"):
        find_records_dir(Path("notes.md"), tmp_path)


def test_broken_pyproject_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.author\nrecords = 1\n")
    with pytest.raises(UserError) as err:
        find_records_dir(None, tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(err.value)


def test_configured_records_dir_missing_names_the_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.author]\nrecords = "gone"\n')
    with pytest.raises(UserError) as err:
        find_records_dir(None, tmp_path)
    assert "gone" in str(err.value) and "pyproject.toml" in str(err.value)


# ---------------------------------------------------------------- atomic writes


def test_write_atomic_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "record.md"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    write_atomic(target, "new\r\nline — two\n")
    assert target.read_bytes() == "new\r\nline — two\n".encode()
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["record.md"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "record.md"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \ud800 surrogate")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["record.md"]


# ---------------------------------------------------------------- the tree


def test_open_missing_tree_is_a_records_error(tmp_path: Path) -> None:
    with pytest.raises(RecordsError, match="does not exist"):
        CourseTree.open(tmp_path / "none")


def test_locate_z_image_in_the_seed_tree(seeds_dir: Path, tmp_path: Path) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    loc = tree.locate("z-image")
    module = tmp_path / "series-7" / "module-7-4"
    assert (loc.series, loc.module, loc.ref.title) == ("7", "7.4", "Z-Image & Z-Image Turbo")
    assert loc.series_plan_path == tmp_path / "series-7" / "plan.md"
    assert loc.module_plan_path == module / "plan.md"
    assert loc.record_path == module / "record.md"
    assert loc.plan_path == module / "lessons" / "z-image.md"
    assert loc.build_dir == module / "build"
    assert loc.position_text == "Lesson 12 of 12 in series, Lesson 4 of 4 in module"
    # the seed lesson document says the same
    assert (
        loc.position_text
        in seeds_dir.joinpath(next(p.name for p in seeds_dir.glob("004_*"))).read_text()
    )
    sdxl = tree.locate("sdxl")
    assert (sdxl.position_in_series, sdxl.position_in_module, sdxl.module_size) == (9, 1, 4)


def test_lessons_in_order_follow_the_series_plan(seeds_dir: Path, tmp_path: Path) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    slugs = [loc.slug for loc in tree.lessons_in_order()]
    assert slugs[:3] == ["controlnet", "controlnet-in-practice", "ip-adapter"]
    assert slugs[-4:] == ["sdxl", "diffusion-transformers", "sd3-and-flux", "z-image"]
    assert len(slugs) == 12


def test_unknown_slug_names_the_tree(seeds_dir: Path, tmp_path: Path) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    with pytest.raises(UserError) as err:
        tree.locate("no-such-lesson")
    assert str(err.value) == (
        f"unknown lesson slug 'no-such-lesson' (not in any series plan under {tmp_path})"
    )
    with pytest.raises(UserError, match="invalid lesson slug"):
        tree.locate("../series-7/plan")


def test_models_are_cached_until_the_file_changes(seeds_dir: Path, tmp_path: Path) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    first = tree.module_record("7.4")
    assert first is not None and tree.module_record("7.4") is first
    path = tree.record_path("7.4")
    text = path.read_text().replace("(3 of 3 lessons built)", "(3 of 4 lessons built)")
    path.write_text(text)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    second = tree.module_record("7.4")
    assert second is not first and "3 of 4" in second.status


def test_lesson_plan_and_missing_parts(seeds_dir: Path, tmp_path: Path) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    plan = tree.lesson_plan("z-image")
    assert plan is not None and plan.slug.strip("`") == "z-image" and len(plan.reviews) == 2
    assert tree.lesson_plan("sdxl") is None  # planned, no planning document yet
    assert tree.module_plan("7.1") is None and tree.module_record("7.1") is None
    assert tree.course() is None
    assert [p.name for p, _ in tree.series_plans()] == ["plan.md"]


def test_corpus_order_covers_a_series_without_a_plan(corpus_dir: Path) -> None:
    tree = CourseTree.open(corpus_dir)
    order = tree.lessons_in_order()
    slugs = [loc.slug for loc in order]
    # series 1 has no plan.md: its module plans give the order
    assert slugs[0] == "what-is-learning"
    assert slugs.index("gradient-descent") < slugs.index("backpropagation") < slugs.index("tensors")
    assert slugs.index("clip") < slugs.index("flow-matching") < slugs.index("z-image")
    assert len(slugs) == len(set(slugs))
    z = tree.locate("z-image")
    assert z.position_text == "Lesson 12 of 12 in series, Lesson 4 of 4 in module"
    assert z.plan_path.is_file() and z.record_path.is_file()


# ---------------------------------------------------------------- half-written files


def test_a_row_cut_short_is_a_records_error_naming_file_and_line(
    seeds_dir: Path, tmp_path: Path
) -> None:
    tree = CourseTree.open(seed_tree(seeds_dir, tmp_path))
    path = tree.record_path("7.4")
    text = path.read_text()
    cut = text.index("| Patchify operation") + 40
    path.write_text(text[:cut])
    with pytest.raises(RecordsError) as err:
        tree.module_record("7.4")
    assert err.value.path == path and err.value.line == text[:cut].count("\n") + 1
    assert "looks cut off" in str(err.value)


def test_rows_short_of_cells_but_closed_are_fine(tmp_path: Path) -> None:
    from lesson_author.course.tree import ensure_complete

    ensure_complete("| A | B | C |\n|---|---|---|\n| 1 | 2 |\n| 1 | 2 | 3\n", tmp_path / "x.md")
    ensure_complete("```\n| A | B | C |\n|---|---|---|\n| 1\n```\n", tmp_path / "x.md")
    with pytest.raises(RecordsError):
        ensure_complete("| A | B | C |\n|---|---|---|\n| 1 | 2", tmp_path / "x.md")


def test_write_atomic_gives_a_new_file_the_umask_mode_not_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "new.md"
    write_atomic(target, "fresh\n")
    assert target.read_text() == "fresh\n"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
