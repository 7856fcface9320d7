"""The lesson report: one self-contained HTML page per lesson (``author report SLUG``)."""

from lesson_author.report.html import (
    STATUS_RULE,
    FindingRow,
    ReportInput,
    finding_rows,
    render_report,
    report_path,
    write_report,
)
from lesson_author.report.mdx_view import mdx_to_html

__all__ = [
    "STATUS_RULE",
    "FindingRow",
    "ReportInput",
    "finding_rows",
    "mdx_to_html",
    "render_report",
    "report_path",
    "write_report",
]
