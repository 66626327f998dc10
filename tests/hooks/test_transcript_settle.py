"""PostToolUse(Agent) can fire while Claude Code is still writing the subagent
transcript: the hook tells, without waiting, whether the transcript holds the
response tool_response.usage reports as the last one (when not, that usage
becomes a provisional row: tests/hooks/test_late_transcript.py). And it reads
transcripts only under the clients' config directories."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tierwise.hot.hooks import transcript

RECORDED = Path(__file__).resolve().parents[1] / "data" / "payloads" / "claude-code-2.1.197" / "subagent-transcript.jsonl"


def _lines() -> list[str]:
    lines = RECORDED.read_text(encoding="utf-8").splitlines()
    out = []
    for i, line in enumerate(lines):
        entry = json.loads(line)
        usage = entry.get("message", {}).get("usage") if isinstance(entry.get("message"), dict) else None
        if usage:  # make each response distinguishable by its counts
            usage["input_tokens"] = 1000 + i
            usage["output_tokens"] = 10 + i
        out.append(json.dumps(entry))
    return out


def _last_usage(lines: list[str]) -> dict[str, int]:
    usage = [json.loads(line)["message"]["usage"] for line in lines if '"usage"' in line][-1]
    return {"input": usage["input_tokens"], "output": usage["output_tokens"]}


def test_a_transcript_without_its_last_response_does_not_hold_it(tmp_path: Path) -> None:
    """PostToolUse(Agent) never waits for Claude Code to finish writing: it asks
    whether the transcript already holds the request tool_response.usage reports."""
    lines = _lines()
    path = tmp_path / "agent-x.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    last = _last_usage(lines)
    start = time.monotonic()
    rows, size = transcript.read_agent_rows(str(path))
    assert not transcript.holds_request(rows, last)
    assert size == path.stat().st_size and len(rows) == len(transcript.agent_usage_rows(str(path)))
    with open(path, "a", encoding="utf-8") as fh:  # the client writes the last line
        fh.write(lines[-1] + "\n")
    rows, size = transcript.read_agent_rows(str(path))
    assert transcript.holds_request(rows, last) and size == path.stat().st_size
    assert time.monotonic() - start < 1.0  # no wait (a bound, not a speed target)


def test_half_written_last_line_is_not_read(tmp_path: Path) -> None:
    lines = _lines()
    path = tmp_path / "agent-y.jsonl"
    whole = "\n".join(lines[:-1]) + "\n"
    path.write_text(whole + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    rows, size = transcript.read_agent_rows(str(path))
    assert size == len(whole.encode()) and not transcript.holds_request(rows, _last_usage(lines))


def test_a_missing_transcript_holds_nothing(tmp_path: Path) -> None:
    assert transcript.read_agent_rows(str(tmp_path / "missing.jsonl")) == ([], 0)
    assert not transcript.holds_request([], _last_usage(_lines()))


def test_holds_request_compares_input_and_cache_counts_not_output() -> None:
    row = {"input": 10, "output": 1, "cache_read": 7, "cache_write_5m": 3, "cache_write_1h": 2}
    assert transcript.holds_request([row], {"input": 10, "output": 99, "cache_read": 7, "cache_write_5m": 5})
    assert not transcript.holds_request([row], {"input": 10, "output": 1, "cache_read": 8, "cache_write_5m": 5})


def test_transcripts_are_read_only_under_client_config_dirs(tmp_path: Path, isolated_home: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    work, personal, other = tmp_path / "claude-work", tmp_path / "claude-personal", tmp_path / "elsewhere"
    for folder in (work, personal, other):
        (folder / "projects").mkdir(parents=True)
        (folder / "projects" / "t.jsonl").write_text("{}\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{work}, {personal}")  # the list `tierwise import` reads
    for folder in (work, personal):
        assert transcript.allowed(str(folder / "projects" / "t.jsonl")) == str(folder / "projects" / "t.jsonl")
    assert transcript.allowed(str(other / "projects" / "t.jsonl")) is None
    assert transcript.allowed(str(work / "projects" / ".." / ".." / "elsewhere" / "projects" / "t.jsonl")) is None
    home_file = isolated_home / ".claude" / "projects" / "t.jsonl"
    assert transcript.allowed(str(home_file)) == os.path.realpath(home_file)
    odd = tmp_path / "dir,with,commas"
    (odd / "projects").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(odd))  # a single directory whose name has commas
    assert transcript.allowed(str(odd / "projects" / "t.jsonl")) == str(odd / "projects" / "t.jsonl")


def test_a_fork_is_complete_once_its_final_response_is_on_disk(tmp_path: Path) -> None:
    """A forked skill's transcript may end later than PostToolUse(Skill), even after Stop, and
    its size cannot say whether more is coming: the Skill call's ``result`` (the fork's final
    text) can. Without one, a last response that asks for no tool ends it."""
    lines = _lines()
    path = tmp_path / "agent-f.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the final response not written yet
    expect = transcript.result_tail("All done.\n")
    rows, _ = transcript.read_agent_rows(str(path))
    assert rows and not transcript.fork_complete(rows, expect) and not transcript.fork_complete(rows, None)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(lines[-1] + "\n")
    rows, _ = transcript.read_agent_rows(str(path))
    assert transcript.fork_complete(rows, expect) and transcript.fork_complete(rows, None)
    assert not transcript.fork_complete(rows, transcript.result_tail("Something else entirely."))
    assert not transcript.fork_complete([], expect)
    assert transcript.result_tail("  ") is None and transcript.result_tail(None) is None


def test_an_incomplete_fork_without_a_transcript_is_not_kept(tmp_path: Path, isolated_home: Path) -> None:
    """A forked run waits at each Stop for its final response, but only while it
    has a transcript that can still bring it: one without is forgotten at once."""
    from tierwise.hot.hooks import state
    from tierwise.hot.hooks.adapter import get_adapter
    from tierwise.hot.hooks.runtime import Context
    from tierwise.hot.ledger import settle

    main = isolated_home / ".claude" / "projects" / "p" / "s-fork.jsonl"
    main.parent.mkdir(parents=True)
    main.write_text("")
    payload = {"session_id": "s-fork", "cwd": str(tmp_path), "transcript_path": str(main),
               "hook_event_name": "Stop"}
    ctx = Context("Stop", payload, get_adapter("claude", payload))
    fork = {"expect": transcript.result_tail("The fork's answer."), "complete": False}
    usage = {"input": 10, "output": 1}
    settle.remember(ctx, "gone", {"client": "claude", "usage": usage, "agent_id": "never-written", "size": 0,
                                  "fork": fork})
    settle.remember(ctx, "waiting", {"client": "claude", "usage": usage, "agent_id": "written", "size": 0,
                                     "fork": fork})
    agent = main.parent / "s-fork" / "subagents" / "agent-written.jsonl"
    agent.parent.mkdir(parents=True)
    agent.write_text("")  # on disk, its final response not yet
    settle.settle_runs(ctx)
    assert sorted(state.read("s-fork")[settle.KEY]) == ["waiting"]
