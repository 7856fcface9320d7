"""Schemas the LLM layer tests ask for: small, nested, every string bounded."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, Field


class Severity(str, Enum):
    critical = "CRITICAL"
    improvement = "IMPROVEMENT"
    polish = "POLISH"


class Finding(BaseModel):
    severity: Severity
    title: str = Field(max_length=60)


class Review(BaseModel):
    summary: str = Field(max_length=120)
    findings: list[Finding] = Field(max_length=3)


VALID_REVIEW = {
    "summary": "Clear lesson with one gap.",
    "findings": [{"severity": "IMPROVEMENT", "title": "Add a worked example"}],
}

MESSAGES = [
    {"role": "system", "content": "You review lessons."},
    {"role": "user", "content": "Review the lesson on gradients."},
]
