"""Packages for setuptools; everything else is in pyproject.toml.

The prompts stay at the top level (``prompts/``, the layout a reader of the project sees) and
ship inside the wheel as the package ``lesson_author.prompts``, found at run time with
importlib.resources. pyproject's ``packages.find`` cannot add a package that lives outside its
``where`` folder, so the package list is computed here: every package under ``src/`` (new ones
included without an edit) plus the prompts.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "lesson_author.prompts"],
    package_dir={"": "src", "lesson_author.prompts": "prompts"},
)
