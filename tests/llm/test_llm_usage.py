"""Usage accounting: per-phase sums, cost, the rich table, JSON round trip."""

from __future__ import annotations

import json

from rich.console import Console

from lesson_author.llm import Usage, UsageLog


def sample_log() -> UsageLog:
    log = UsageLog(price_in=0.15, price_out=0.60)
    log.record(
        Usage(
            phase="orient",
            model="m",
            prompt_tokens=1000,
            completion_tokens=200,
            latency_s=1.5,
            calls=1,
        )
    )
    log.record(
        Usage(
            phase="review",
            model="m",
            prompt_tokens=3000,
            completion_tokens=500,
            latency_s=2.0,
            calls=2,
        )
    )
    log.record(
        Usage(
            phase="orient",
            model="m",
            prompt_tokens=1000,
            completion_tokens=200,
            latency_s=0.01,
            cached=True,
            calls=0,
        )
    )
    return log


def test_summary_per_phase_counts_cache_hits_but_not_their_tokens() -> None:
    orient, review = sample_log().summarize()
    assert (orient.phase, orient.requests, orient.calls, orient.cache_hits) == ("orient", 2, 1, 1)
    assert (orient.prompt_tokens, orient.completion_tokens) == (1000, 200)
    assert orient.cost is not None and abs(orient.cost - (1000 * 0.15 + 200 * 0.6) / 1e6) < 1e-12
    assert (review.calls, review.prompt_tokens) == (2, 3000)


def test_total_and_no_price_means_no_cost() -> None:
    total = sample_log().total()
    assert (total.requests, total.calls, total.cache_hits) == (3, 3, 1)
    assert (total.prompt_tokens, total.completion_tokens) == (4000, 700)
    log = UsageLog()
    log.record(Usage(phase="x", model="m", prompt_tokens=5))
    assert log.total().cost is None


def test_render_table_shows_each_phase_and_the_total() -> None:
    console = Console(width=120, record=True)
    console.print(sample_log().render_table())
    text = console.export_text()
    for needle in ("orient", "review", "total", "cache hits", "4000", "0.001020"):
        assert needle in text


def test_json_round_trip() -> None:
    log = sample_log()
    data = json.loads(log.to_json())
    assert data["total"]["calls"] == 3 and len(data["entries"]) == 3
    again = UsageLog.from_json(log.to_json())
    assert again.entries == log.entries and again.price_in == 0.15
    # a pydantic model, so it can live in the graph state / checkpoint
    assert UsageLog.model_validate(log.model_dump()).entries == log.entries


def test_log_can_be_copied_and_pickled_with_the_graph_state() -> None:
    import copy
    import pickle

    log = sample_log()
    assert copy.deepcopy(log).entries == log.entries
    assert pickle.loads(pickle.dumps(log)).total() == log.total()


def test_speed_is_the_wall_time_against_the_models_own_limit() -> None:
    """Rates from llama.cpp's counters of the same run; the limit prices every token at them."""
    log = UsageLog()
    log.record(
        Usage(
            phase="build",
            model="m",
            prompt_tokens=1000,
            completion_tokens=100,
            prompt_eval_tokens=800,  # 200 came from the reused prefix
            prompt_eval_s=4.0,
            decode_tokens=100,
            decode_s=2.0,
            generate_s=7.0,
        )
    )
    log.record(Usage(phase="review", model="m", prompt_tokens=50, cached=True, calls=0))
    speed = log.speed(wall_s=12.0)
    assert speed is not None
    total = speed["total"]
    assert (total["prompt_tps"], total["decode_tps"]) == (200.0, 50.0)
    assert total["limit_s"] == 1000 / 200 + 100 / 50 == 7.0
    assert total["ratio"] == round(12.0 / 7.0, 2) and total["sampling_s"] == 1.0
    assert total["reused_prompt_tokens"] == 200
    assert list(speed["phases"]) == ["build"] and speed["phases"]["build"]["ratio"] == 1.0
    assert UsageLog().speed() is None and log.to_dict()["speed"]["total"]["wall_s"] == 7.0
