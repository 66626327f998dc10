"""One minimal run of each client: the cost of a client run (printed in the
e2e summary at the end of the test run), no traffic beyond the scripted
requests, and the API's usage where the client's own reports put it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripted_api import Rule, Usage, text

pytestmark = pytest.mark.e2e

PROMPT = "Say hello to the shop."


def project(tmp_path: Path) -> Path:
    path = tmp_path / "shop"
    path.mkdir()
    (path / "README.md").write_text("# shop\n")
    return path


@pytest.mark.slow
def test_one_claude_run(run_claude: Any, run_ccusage: Any, tmp_path: Path) -> None:
    result = run_claude(project(tmp_path), PROMPT,
                        [Rule("main", PROMPT, [text("Hello, shop.", Usage(1234, 56, cache_read=78, cache_write=90))])])
    print(f"\n[e2e timing] one claude run, one API turn: {result.seconds:.2f}s")
    assert result.exit_code == 0, result.describe()
    assert result.json["result"] == "Hello, shop." and result.json["is_error"] is False
    # the scripted request is the only traffic: no side requests with these settings
    assert [(r.protocol, r.rule, r.stream) for r in result.requests] == [("anthropic", "main", True)], result.describe()
    usage = result.json["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["cache_read_input_tokens"],
            usage["cache_creation_input_tokens"]) == (1234, 56, 78, 90)
    # the transcript carries the same usage, and ccusage (what users already trust) reads it
    (transcript,) = result.transcripts
    assert transcript.is_relative_to(result.home / ".claude" / "projects")
    report = run_ccusage(result)
    (session,) = report["sessions"]
    assert (session["inputTokens"], session["outputTokens"], session["cacheReadTokens"],
            session["cacheCreationTokens"]) == (1234, 56, 78, 90), session


@pytest.mark.slow
def test_one_qwen_run(run_qwen: Any, tmp_path: Path) -> None:
    result = run_qwen(project(tmp_path), PROMPT, [Rule("main", PROMPT, [text("Hello, shop.", Usage(1234, 56, cache_read=78))])])
    print(f"\n[e2e timing] one qwen run, one API turn: {result.seconds:.2f}s")
    assert result.exit_code == 0, result.describe()
    assert [(r.protocol, r.rule, r.stream) for r in result.requests] == [("openai", "main", True)], result.describe()
    request = result.requests[0]
    assert request.model == "qwen-scripted" and request.body["stream_options"] == {"include_usage": True}
    events = result.json if isinstance(result.json, list) else []
    final = [e for e in events if isinstance(e, dict) and e.get("type") == "result"]
    assert final and final[-1]["result"] == "Hello, shop.", result.stdout[-2000:]
    (transcript,) = result.transcripts
    assert transcript.is_relative_to(result.home / ".qwen" / "projects")
    assert '"promptTokenCount":1312' in transcript.read_text().replace(" ", "")
