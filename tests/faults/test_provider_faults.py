"""`author lesson` against an endpoint that misbehaves: every fault is retried or reported
as it happens, and the run ends as the README says (exit 0/3, or 4 and resumable)."""

from __future__ import annotations

import time
from pathlib import Path

from fault_helpers import (
    assert_records_clean,
    endpoint_args,
    error_lines,
    files_under,
    run_author,
)
from llm_fake_server import drop, ok, schema_reply, slow, status, text


def test_transient_faults_are_retried_and_said_as_they_happen(project: Path, endpoint) -> None:
    server = endpoint(
        status(429, retry_after="1"),  # attempt 1
        status(500),  # attempt 2
        text("{not json"),  # attempt 3 answers, but not JSON: the reply is retried
        ok({"unexpected": 1}),  # a schema violation: retried again
        drop(),  # the connection dies: a transport retry
    )
    done = run_author(project, "lesson", "z-image", *endpoint_args(server))

    assert done.returncode in (0, 3), done.stderr
    err = done.stderr
    assert (
        "attempt 1/3 failed: HTTP 429" in err and "retrying in 1.0s (as the endpoint asked)" in err
    )
    assert "attempt 2/3 failed: HTTP 500" in err
    assert "attempt 1/3 failed: cannot connect" in err  # the dropped connection
    assert error_lines(err) == []
    assert_records_clean(project)
    for command in (["check"], ["records", "--check"]):  # the commands themselves, once
        assert run_author(project, *command).returncode == 0


def test_a_hung_endpoint_says_it_waits_then_fails_with_exit_4_and_resumes(
    project: Path, endpoint
) -> None:
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace("timeout_s = 5", "timeout_s = 1")
        .replace("wait_notice_s = 30", "wait_notice_s = 0.3"),
        encoding="utf-8",
    )
    server = endpoint(slow(4, schema_reply()), slow(4, schema_reply()), auto=False)
    started = time.monotonic()
    done = run_author(project, "lesson", "z-image", *endpoint_args(server))
    elapsed = time.monotonic() - started

    assert done.returncode == 4, done.stderr
    assert elapsed < 90  # it did not hang (a loaded machine starts `author` slowly)
    assert "waiting for fake-model's reply" in done.stderr  # said while it waits
    assert "attempt 1/3 failed: no reply within 1s" in done.stderr
    (line,) = error_lines(done.stderr)
    assert "orient" in line and "no reply within 1s" in line and "resume" in line
    assert server.count == 2  # a timeout is retried once, not max_attempts (3) times

    server.auto = True  # the endpoint is back: the run resumes where it stopped
    again = run_author(project, "lesson", "z-image", *endpoint_args(server))
    assert again.returncode in (0, 3), again.stderr
    assert_records_clean(project)


def test_a_provider_that_keeps_failing_exits_4_in_one_line(project: Path, endpoint) -> None:
    server = endpoint(*[status(503)] * 3, auto=False)
    done = run_author(project, "lesson", "z-image", *endpoint_args(server))
    assert done.returncode == 4
    (line,) = error_lines(done.stderr)
    assert "HTTP 503" in line and "failed after 3 attempt(s)" in line


def test_credentials_in_the_base_url_are_never_printed_or_stored(project: Path, endpoint) -> None:
    password = "pa55-SECRET-w0rd"
    server = endpoint(*[status(500)] * 3)
    host = server.base_url.removeprefix("http://")
    url = f"http://alice:{password}@{host}"

    failed = run_author(project, "lesson", "z-image", *endpoint_args(server, url))
    assert failed.returncode == 4
    assert password not in failed.stderr + failed.stdout
    assert "[REDACTED]@127.0.0.1" in failed.stderr  # the endpoint is still named
    done = run_author(project, "lesson", "z-image", *endpoint_args(server, url))
    assert done.returncode in (0, 3), done.stderr
    assert password not in done.stderr + done.stdout

    written = files_under(project)
    assert any(p.name == "checkpoints.sqlite" for p in written)
    assert [str(p) for p in written if password.encode() in p.read_bytes()] == []
