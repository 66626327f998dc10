"""PostToolUse(Agent) can fire while Claude Code is still writing the subagent
transcript; the hook waits (bounded) until the transcript holds the response
that tool_response.usage reports as the last one. And it reads transcripts
only under the clients' config directories."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from tierwise.hooks import transcript

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


def test_waits_for_the_last_response_to_be_written(tmp_path: Path, monkeypatch: object) -> None:
    lines = _lines()
    path = tmp_path / "agent-x.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    monkeypatch.setattr(transcript, "allowed", lambda p: p)  # type: ignore[attr-defined]
    before = transcript.agent_usage_rows(str(path))

    def finish() -> None:
        time.sleep(0.2)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(lines[-1] + "\n")

    writer = threading.Thread(target=finish)
    writer.start()
    rows = transcript.settled_agent_rows(str(path), _last_usage(lines), wait_s=3.0)
    writer.join()
    assert len(rows) == len(before) + 1
    assert (rows[-1]["input"], rows[-1]["output"]) == tuple(_last_usage(lines).values())


def test_gives_up_after_the_bound(tmp_path: Path) -> None:
    lines = _lines()
    path = tmp_path / "agent-y.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    start = time.monotonic()
    rows = transcript.settled_agent_rows(str(path), _last_usage(lines), wait_s=0.2)
    assert 0.2 <= time.monotonic() - start < 2.0
    assert rows == transcript.agent_usage_rows(str(path))


def test_no_wait_for_a_missing_or_finished_transcript(tmp_path: Path) -> None:
    import os

    lines = _lines()
    start = time.monotonic()
    assert transcript.settled_agent_rows(str(tmp_path / "missing.jsonl"), _last_usage(lines), wait_s=3.0) == []
    path = tmp_path / "agent-z.jsonl"
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    old = time.time() - 60
    os.utime(path, (old, old))  # the writer finished long ago: its last response is not coming
    transcript.settled_agent_rows(str(path), _last_usage(lines), wait_s=3.0)
    assert time.monotonic() - start < 1.0


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
