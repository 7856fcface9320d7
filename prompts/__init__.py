"""The prompt templates, installed as ``lesson_author.prompts`` (see setup.py).

A course may use its own copies: ``prompts = "dir"`` under ``[tool.author]`` in its
pyproject.toml (relative to that file).
"""
