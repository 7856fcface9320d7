"""lesson-author: plan, build and review course lessons against a course's record files."""

__version__ = "0.1.0"
