"""`tierwise export otel` against a real OTLP/HTTP receiver on loopback that
decodes the protobuf bodies: shape and attributes, one trace per session, no
resend, gzip, headers, endpoints, and the failure paths (refused, 5xx, timeout)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from otel_helpers import (
    RECORDED_AGENT,
    RECORDED_SESSION,
    claude_tree,
    demo_session_id,
    import_claude,
    sent_rows,
    tierwise,
    transcript_stamps,
)
from otlp_receiver import Receiver, closed_port
from tierwise.commands import demo
from tierwise.hot.errors import EXIT_EXPORT
from tierwise.hot.ledger import connection, record


def _ledger(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = connection.connect()
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _export(receiver: Receiver, *extra: str, env: dict[str, str] | None = None) -> Any:
    return tierwise("export", "otel", "--endpoint", receiver.base_url, *extra, env=env)


# --------------------------------------------------------------------------- a real recorded session


def test_the_demo_session_arrives_as_one_trace_of_runs_and_requests(demo_ledger: Path, receiver: Receiver) -> None:
    proc = _export(receiver)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    spans = receiver.spans()
    usage = _ledger("SELECT id, message_id, model, input, output, cache_read, cache_write_5m + cache_write_1h, "
                    "run_id, cost_usd FROM usage")
    runs = _ledger("SELECT run_id, skill, tool, tier, preferred, zone, reason FROM decisions")
    assert len(spans) == len(usage) + len(runs)
    assert f"sent {len(spans)} spans ({len(runs)} runs, {len(usage)} requests) in 1 trace to" in proc.stdout

    # one trace, its id derived from the session id
    session = demo_session_id()
    expected_trace = hashlib.sha256(f"tierwise/trace/{session}".encode()).digest()[:16].hex()
    assert {s["trace_id"] for s in spans} == {expected_trace}
    assert {s["attributes"]["gen_ai.conversation.id"] for s in spans} == {session}

    by_id = {s["span_id"]: s for s in spans}
    run_spans = {s["attributes"]["tierwise.run_id"]: s for s in spans if "tierwise.run.kind" in s["attributes"]}
    requests = {s["attributes"]["gen_ai.response.id"]: s for s in spans if s["name"].startswith("chat ")}
    assert len(run_spans) == len(runs) and len(requests) == len(usage)

    # every run: what was decided, what ran, in the spec's fields
    for run_id, skill, tool, tier, preferred, zone, reason in runs:
        a = run_spans[run_id]["attributes"]
        assert a["tierwise.skill"] == skill
        assert a["tierwise.model_requested"] == tier
        assert a["tierwise.budget_zone"] == zone
        assert a["tierwise.routing_decision"] == reason
        assert a["tierwise.run.kind"] == ("handoff" if tool == "Agent" else "skill")
        assert run_spans[run_id]["name"] == (f"invoke_agent {skill}" if tool == "Agent" else f"skill {skill}")
        if tier != preferred:
            assert a["tierwise.downgrade_reason"] == reason
        else:
            assert "tierwise.downgrade_reason" not in a
        # the ledger says how each tier was applied (the demo runs its coordinator forked, the rest as subagents)
        assert a["tierwise.enforcement"] == "enforced" and a["tierwise.enforcement_note"]
    # "run everything on haiku": css-layout-debugger asked for haiku (preferred sonnet) and ran on haiku
    css = next(s["attributes"] for s in run_spans.values() if s["attributes"]["tierwise.skill"] == "css-layout-debugger")
    assert (css["tierwise.preferred"], css["tierwise.model_requested"], css["tierwise.model_used"]) == (
        "sonnet", "haiku", "haiku")

    # every request: GenAI semantic conventions, parent = its run, start = the transcript line's time
    stamps = transcript_stamps(demo_ledger / "home")
    for _id, message_id, model, inp, out, cache_read, cache_write, run_id, cost in usage:
        span = requests[message_id]
        a = span["attributes"]
        assert span["kind"] == 3  # SPAN_KIND_CLIENT
        assert (a["gen_ai.operation.name"], a["gen_ai.system"], a["gen_ai.provider.name"]) == (
            "chat", "anthropic", "anthropic")
        assert a["gen_ai.request.model"] == a["gen_ai.response.model"] == model
        assert a["gen_ai.usage.output_tokens"] == out
        assert a["gen_ai.usage.input_tokens"] == inp + cache_read + cache_write
        assert a["gen_ai.usage.cache_read.input_tokens"] == cache_read
        assert a["tierwise.cost_usd"] == pytest.approx(cost)
        if run_id:
            assert by_id[span["parent_span_id"]]["attributes"]["tierwise.run_id"] == run_id
        else:
            assert span["parent_span_id"] is None
        assert span["start_ns"] == record.iso_to_ms(stamps[message_id]) * 1_000_000

    # the handoffs' tokens are the demo's own numbers
    for skill, _request, calls in demo.FIRST_JOBS[:1]:
        a = next(s["attributes"] for s in run_spans.values() if s["attributes"]["tierwise.skill"] == skill)
        assert a["tierwise.tokens.total"] == sum(sum(c) for c in calls)
        assert a["tierwise.requests"] == len(calls)
    # a run's cost is its requests' cost
    for run_id, span in run_spans.items():
        costs = [row[8] for row in usage if row[7] == run_id]
        assert span["attributes"]["tierwise.cost_usd"] == pytest.approx(sum(costs))

    resource = spans[0]["resource"]
    assert resource["service.name"] == "tierwise"
    assert spans[0]["scope"] == "tierwise"

    # again: nothing new, nothing sent
    requests_before = len(receiver.received)
    again = _export(receiver)
    assert again.returncode == 0 and "nothing new to send" in again.stdout
    assert len(receiver.received) == requests_before


def test_service_name_and_resource_attributes_come_from_the_environment(demo_ledger: Path,
                                                                         receiver: Receiver) -> None:
    proc = _export(receiver, env={"OTEL_SERVICE_NAME": "shop-agents",
                                  "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=ci,team=frontend"})
    assert proc.returncode == 0, proc.stderr
    resource = receiver.spans()[0]["resource"]
    assert resource["service.name"] == "shop-agents"
    assert resource["deployment.environment"] == "ci" and resource["team"] == "frontend"


def test_dry_run_prints_the_tree_and_sends_nothing(demo_ledger: Path, receiver: Receiver) -> None:
    proc = _export(receiver, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert receiver.received == [] and sent_rows() == []
    assert proc.stdout.startswith(f"trace {hashlib.sha256(f'tierwise/trace/{demo_session_id()}'.encode()).digest()[:16].hex()}")
    assert "├─ invoke_agent page-component-mapper" in proc.stdout
    assert "│  ├─ chat claude-haiku-4-5-20251001" in proc.stdout
    assert "would go to " + receiver.url in proc.stdout


# --------------------------------------------------------------------------- one trace per session


def test_one_trace_per_session_with_the_subagent_under_its_handoff(tmp_path: Path, receiver: Receiver) -> None:
    other = "0b6f7c2e-1111-4222-8333-944455556666"
    claude_tree(tmp_path / "claude")
    claude_tree(tmp_path / "claude", other)
    summary = import_claude(tmp_path / "claude")
    assert summary["records_added"] == 12
    proc = _export(receiver)
    assert proc.returncode == 0, proc.stderr
    spans = receiver.spans()
    traces: dict[str, set[str]] = {}
    for s in spans:
        traces.setdefault(s["trace_id"], set()).add(s["attributes"]["session.id"])
    assert sorted(traces.values(), key=sorted) == sorted([{RECORDED_SESSION}, {other}], key=sorted)
    for session in (RECORDED_SESSION, other):
        mine = [s for s in spans if s["attributes"]["session.id"] == session]
        handoff = [s for s in mine if s["attributes"].get("tierwise.run.kind") == "handoff"]
        assert len(handoff) == 1
        assert handoff[0]["attributes"]["gen_ai.agent.id"] == RECORDED_AGENT
        children = [s for s in mine if s["parent_span_id"] == handoff[0]["span_id"]]
        assert {c["attributes"]["tierwise.agent_id"] for c in children} == {RECORDED_AGENT}
        assert len(children) == 2


# --------------------------------------------------------------------------- never twice


def test_exporting_again_sends_only_what_is_new(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    assert _export(receiver).returncode == 0
    first = {s["span_id"] for s in receiver.spans()}
    assert len(first) == 6 + 2  # six requests, the inline skill run and the handoff

    assert _export(receiver).returncode == 0
    assert {s["span_id"] for s in receiver.spans()} == first and len(receiver.spans()) == len(first)

    # a request recorded later (as the Stop hook records one), in the same session
    record.record_usage([{"client": "claude_code", "model": "claude-opus-4-8", "input": 10, "output": 5,
                          "session_id": RECORDED_SESSION, "message_id": "msg_late", "request_id": "req_late",
                          "timestamp": "2026-11-22T02:45:00.000Z"}])
    proc = _export(receiver)
    assert proc.returncode == 0 and "sent 1 span (0 runs, 1 request) in 1 trace" in proc.stdout
    late = [s for s in receiver.spans() if s["span_id"] not in first]
    assert [s["attributes"]["gen_ai.response.id"] for s in late] == ["msg_late"]
    assert late[0]["trace_id"] == next(iter({s["trace_id"] for s in receiver.spans()}))
    assert Counter(s["span_id"] for s in receiver.spans()).most_common(1)[0][1] == 1


def test_another_destination_gets_everything(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    second = Receiver().start()
    try:
        assert _export(receiver).returncode == 0
        assert tierwise("export", "otel", "--endpoint", second.base_url).returncode == 0
        assert sorted(s["span_id"] for s in second.spans()) == sorted(s["span_id"] for s in receiver.spans())
    finally:
        second.stop()


def test_a_batch_that_fails_midway_keeps_what_was_accepted(tmp_path: Path, receiver: Receiver,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tierwise.export import otel

    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    monkeypatch.setattr(otel, "BATCH_SPANS", 3)
    settings = otel.resolve_settings(receiver.base_url, 5, None)
    accepted = {"n": 0}

    class FailSecond(otel.Sender):
        def send(self, built: list[Any]) -> str | None:
            accepted["n"] += 1
            if accepted["n"] == 2:
                receiver.mode = "fail"  # the receiver answers 500 from the second batch on
            return super().send(built)

    conn = connection.connect()
    try:
        with pytest.raises(otel.ExportFailed) as failed:
            otel.export(conn, settings, sender_factory=FailSecond)
    finally:
        conn.close()
    assert "HTTP 500" in failed.value.message
    assert failed.value.result["sent"]["spans"] == 3
    first = receiver.spans()
    assert len(first) == 3 and len(sent_rows()) == 3
    receiver.mode = "ok"
    assert _export(receiver).returncode == 0
    ids = [s["span_id"] for s in receiver.spans()]
    assert len(ids) == 8 and len(set(ids)) == 8


# --------------------------------------------------------------------------- the wire: gzip, headers, endpoints


def test_gzip_and_headers_from_the_environment(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    proc = _export(receiver, env={
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20cGstbGYtMTpzay1sZi0x,x-tenant=qa",
    })
    assert proc.returncode == 0, proc.stderr
    (req,) = receiver.received
    assert req.headers["content-encoding"] == "gzip" and req.raw[:2] == b"\x1f\x8b"
    assert req.headers["authorization"] == "Basic cGstbGYtMTpzay1sZi0x"
    assert req.headers["x-tenant"] == "qa"
    assert req.headers["content-type"] == "application/x-protobuf"
    assert len(req.spans()) == 8


def test_traces_headers_win_and_config_compression_applies(tmp_path: Path, receiver: Receiver) -> None:
    project = tmp_path / "shop"
    (project / ".claude").mkdir(parents=True)
    (project / ".claude" / "model-routing.yaml").write_text(
        f"export:\n  otel:\n    endpoint: {receiver.base_url}\n    compression: gzip\n", encoding="utf-8")
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    proc = tierwise("export", "otel", "--project", str(project), env={
        "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=general", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-tenant=traces"})
    assert proc.returncode == 0, proc.stderr
    (req,) = receiver.received
    assert req.path == "/v1/traces"  # the config's base URL got the traces path
    assert req.headers["content-encoding"] == "gzip"
    assert req.headers["x-tenant"] == "traces"


def test_endpoint_order_flag_then_environment_then_config(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    # a per-signal URL is used exactly as given (Langfuse's shape)
    env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.base_url + "/api/public/otel/v1/traces",
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}
    proc = tierwise("export", "otel", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [r.path for r in receiver.received] == ["/api/public/otel/v1/traces"]
    assert '"endpoint_source":"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"' in proc.stdout
    # the base variable gets /v1/traces; --endpoint beats both variables
    other = Receiver().start()
    try:
        record.record_usage([{"client": "claude_code", "model": "claude-opus-4-8", "input": 1, "output": 1,
                              "session_id": "s2", "message_id": "m", "request_id": "r"}])
        proc = tierwise("export", "otel", "--endpoint", other.base_url + "/", env=env)
        assert proc.returncode == 0, proc.stderr
        assert [r.path for r in other.received] == ["/v1/traces"]
        proc = tierwise("export", "otel", env={"OTEL_EXPORTER_OTLP_ENDPOINT": other.base_url + "/"})
        assert proc.returncode == 0 and "nothing new to send to " + other.url in proc.stdout
    finally:
        other.stop()


def test_a_bad_endpoint_or_protocol_is_one_clear_error(tmp_path: Path) -> None:
    proc = tierwise("export", "otel", "--endpoint", "localhost:4318")
    assert proc.returncode == 2
    assert "--endpoint: expected an http:// or https:// URL, got 'localhost:4318'" in proc.stderr
    assert "Traceback" not in proc.stderr
    record.record_usage([{"client": "claude_code", "model": "claude-opus-4-8", "input": 1, "output": 1,
                          "session_id": "s", "message_id": "m", "request_id": "r"}])
    proc = tierwise("export", "otel", "--endpoint", f"http://127.0.0.1:{closed_port()}",
                    env={"OTEL_SDK_DISABLED": "true"})
    assert proc.returncode == 2 and "the OpenTelemetry SDK is disabled" in proc.stderr
    proc = tierwise("export", "otel", env={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert proc.returncode == 2
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='grpc': tierwise exports over OTLP/HTTP with protobuf only" in proc.stderr


# --------------------------------------------------------------------------- failures lose nothing


def _assert_one_line_failure(proc: Any, words: str) -> None:
    assert proc.returncode == EXIT_EXPORT, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert words in lines[0] and "the next run sends it" in lines[0]


def test_connection_refused_then_the_next_try_sends_everything(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    proc = tierwise("export", "otel", "--endpoint", f"http://127.0.0.1:{closed_port()}", "--timeout", "2")
    _assert_one_line_failure(proc, "connection refused")
    assert sent_rows() == []
    assert _export(receiver).returncode == 0
    assert len(receiver.spans()) == 8


def test_http_500_is_not_retried_and_nothing_is_marked(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    receiver.mode = "fail"
    proc = _export(receiver, "--json")
    _assert_one_line_failure(proc, "HTTP 500 Internal Server Error: receiver says no")
    assert '"error":"HTTP 500' in proc.stdout
    assert len(receiver.received) == 1 and sent_rows() == []
    receiver.mode = "ok"
    assert _export(receiver).returncode == 0
    assert len(receiver.spans()) == 8


def test_http_503_is_retried_as_the_exporter_retries(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    receiver.mode, receiver.fail_status = "fail", 503
    proc = _export(receiver, "--timeout", "4")
    _assert_one_line_failure(proc, "HTTP 503")
    assert len(receiver.received) >= 2  # the exporter retried (backoff 1 s, 2 s within the 4 s)
    assert sent_rows() == []


def test_a_receiver_that_does_not_answer_times_out(tmp_path: Path, receiver: Receiver) -> None:
    claude_tree(tmp_path / "claude")
    import_claude(tmp_path / "claude")
    receiver.mode = "hang"
    proc = _export(receiver, "--timeout", "1")
    _assert_one_line_failure(proc, "no answer within 1 s (timeout)")
    assert sent_rows() == []
    receiver.mode = "ok"
    assert _export(receiver).returncode == 0
    assert len(receiver.spans()) == 8


# --------------------------------------------------------------------------- filters and open runs


def test_session_and_since_filters(tmp_path: Path, receiver: Receiver) -> None:
    other = "0b6f7c2e-1111-4222-8333-944455556666"
    claude_tree(tmp_path / "claude")
    claude_tree(tmp_path / "claude", other)
    import_claude(tmp_path / "claude")
    assert _export(receiver, "--session", other).returncode == 0
    assert {s["attributes"]["session.id"] for s in receiver.spans()} == {other}
    assert _export(receiver, "--since", "2026-11-23").returncode == 0  # the recording is from 2026-11-22
    assert len(receiver.spans()) == 8
    assert _export(receiver, "--since", "2026-11-22").returncode == 0
    assert {s["attributes"]["session.id"] for s in receiver.spans()} == {other, RECORDED_SESSION}
    bad = _export(receiver, "--since", "last week")
    assert bad.returncode == 2 and "--since expects a date" in bad.stderr
    bad = _export(receiver, "--session", "no-such-session")
    assert bad.returncode == 2 and "no session 'no-such-session' in the ledger" in bad.stderr


def test_an_open_run_waits_for_stop(tmp_path: Path, receiver: Receiver) -> None:
    """Real hook processes (the demo's machinery): a skill loaded in the current
    turn is still open (its requests come until the next prompt), so it waits;
    a finished handoff goes at once; after Stop the skill's span goes too."""
    import io

    from rich.console import Console

    # the coordinator inline (advisory): its run stays open until the next prompt
    session = demo._Session(tmp_path / "d", Console(file=io.StringIO()), quiet=True, inline="advisory")
    session.env["TIERWISE_HOME"] = os.environ["TIERWISE_HOME"]
    session.setup()
    session.hook("SessionStart", {"source": "startup"})
    session.prompt(demo.FIRST_PROMPT)
    session.load_skill("frontend-qa-coordinator")
    skill, request, calls = demo.FIRST_JOBS[0]
    session.dispatch("frontend-qa-coordinator", skill, request, calls)

    proc = _export(receiver)
    assert proc.returncode == 0, proc.stderr
    assert "1 run still open" in proc.stdout
    kinds = Counter(s["attributes"].get("tierwise.run.kind", "request") for s in receiver.spans())
    assert kinds == {"handoff": 1, "request": len(calls)}

    session.stop()  # records the turn's inline requests and the summary
    proc = _export(receiver)
    assert proc.returncode == 0, proc.stderr
    assert "still open" not in proc.stdout
    spans = receiver.spans()
    coordinator = [s for s in spans if s["attributes"].get("tierwise.run.kind") == "skill"]
    assert len(coordinator) == 1
    inline = [s for s in spans if s["parent_span_id"] == coordinator[0]["span_id"]]
    assert inline and all(s["attributes"]["tierwise.skill"] == "frontend-qa-coordinator" for s in inline)
    assert len({s["span_id"] for s in spans}) == len(spans)


# --------------------------------------------------------------------------- Qwen Code


def _qwen(name: str, project: Path, home: Path, **changes: Any) -> dict[str, Any]:
    import json

    data = json.loads((Path(__file__).resolve().parents[1] / "data" / "payloads" / "qwen-code-0.15.10"
                       / f"{name}.json").read_text(encoding="utf-8"))["stdin"]
    data["cwd"] = str(project)
    data["transcript_path"] = str(home / ".qwen" / "projects" / "-shop" / "chats" / f"{data['session_id']}.jsonl")
    return {**data, **changes}


def test_a_qwen_handoff_recorded_by_the_hooks(tmp_path: Path, isolated_home: Path, receiver: Receiver,
                                              repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Qwen Code 0.15.10's recorded payloads through the real hook dispatch: the
    agent handoff (tokens from the subagent's telemetry) becomes a run span with
    its request under it; the Qwen tool name and the client are on the span."""
    import json
    import shutil

    from tierwise.hot.hooks.dispatch import handle

    project = tmp_path / "shop"
    shutil.copytree(repo_root / "skills", project / ".qwen" / "skills")
    monkeypatch.chdir(project)
    tool_input = {"description": "d", "prompt": "Load .qwen/skills/css-layout-debugger/SKILL.md and execute it.",
                  "subagent_type": "general-purpose"}
    pre = _qwen("PreToolUse-agent", project, isolated_home, tool_input=tool_input, tool_use_id="call_q")
    chats = isolated_home / ".qwen" / "projects" / "-shop" / "chats"
    chats.mkdir(parents=True)
    shutil.copy(repo_root / "tests" / "data" / "payloads" / "qwen-code-0.15.10" / "transcript.jsonl",
                chats / f"{pre['session_id']}.jsonl")
    handle("PreToolUse", json.dumps(pre), "qwen")
    handle("PostToolUse", json.dumps(_qwen("PostToolUse-agent", project, isolated_home, tool_input=tool_input,
                                           tool_use_id="call_q")), "qwen")
    assert _export(receiver).returncode == 0
    spans = receiver.spans()
    (run,) = [s for s in spans if s["attributes"].get("tierwise.run.kind")]
    a = run["attributes"]
    assert (a["tierwise.run.kind"], a["tierwise.tool"], a["tierwise.client"], a["tierwise.skill"]) == (
        "handoff", "agent", "qwen_code", "css-layout-debugger")
    assert a["tierwise.model_requested"] == _ledger("SELECT tier FROM decisions")[0][0]
    (request,) = [s for s in spans if s["parent_span_id"] == run["span_id"]]
    assert request["attributes"]["gen_ai.usage.output_tokens"] == 456
    assert request["attributes"]["gen_ai.response.model"] == "fake-model"
    assert request["attributes"]["gen_ai.provider.name"] == "_OTHER"  # a model id no known vendor uses


def test_ids_come_from_the_sessions_and_requests_not_from_the_ledger(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The same transcripts imported into two separate ledgers plan the same trace
    and span ids (a rebuilt ledger re-sends nothing a backend cannot recognise)."""
    import json

    claude_tree(tmp_path / "claude")
    plans = []
    for name in ("first", "second"):
        monkeypatch.setenv("TIERWISE_HOME", str(tmp_path / name))
        if name == "second":  # rows in another order: the row ids differ, the span ids must not
            record.record_usage([{"client": "claude_code", "model": "claude-opus-4-8", "input": 1, "output": 1,
                                  "session_id": "other", "message_id": "m", "request_id": "r"}])
        import_claude(tmp_path / "claude")
        proc = tierwise("export", "otel", "--dry-run", "--json", "--session", RECORDED_SESSION)
        assert proc.returncode == 0, proc.stderr
        plans.append(json.loads(proc.stdout)["spans"])
    first, second = ({(s["trace_id"], s["span_id"], s["parent_span_id"], s["name"]) for s in p} for p in plans)
    assert first == second and len(first) == 8
    assert _ledger("SELECT count(*) FROM otel_sent") == [(0,)]  # a dry run records nothing


# --------------------------------------------------------------------------- provisional rows


def _provisional_handoff(tmp_path: Path, home: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recorded Claude Code handoff through the real hooks, its subagent
    transcript not written yet: the hook records the payload's figure as a
    provisional row (docs/ledger.md, "One request, one row")."""
    import json
    import shutil

    from tierwise.hot.hooks.dispatch import handle

    project = tmp_path / "shop"
    shutil.copytree(repo_root / "skills", project / ".claude" / "skills")
    monkeypatch.chdir(project)
    claude_dir = home / ".claude"
    transcript = claude_dir / "projects" / "-home-dev-shop" / f"{RECORDED_SESSION}.jsonl"
    tool_input = {"description": "d", "prompt": "Load .claude/skills/css-layout-debugger/SKILL.md and execute it.",
                  "subagent_type": "general-purpose"}
    for event, name in (("PreToolUse", "PreToolUse-Agent"), ("PostToolUse", "PostToolUse-Agent")):
        data = json.loads((repo_root / "tests" / "data" / "payloads" / "claude-code-2.1.197" / f"{name}.json")
                          .read_text(encoding="utf-8"))["stdin"]
        data.update(cwd=str(project), transcript_path=str(transcript), tool_input=tool_input)
        handle(event, json.dumps(data), "claude")
    assert _ledger("SELECT provisional, agent_id FROM usage") == [("last_request", RECORDED_AGENT)]
    return claude_dir


def test_a_provisional_run_waits_for_its_transcript(tmp_path: Path, isolated_home: Path, receiver: Receiver,
                                                    repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    claude_dir = _provisional_handoff(tmp_path, isolated_home, repo_root, monkeypatch)
    proc = _export(receiver)
    assert proc.returncode == 0, proc.stderr
    assert "1 run still open" in proc.stdout and receiver.spans() == []
    # the transcripts arrive; the import replaces the provisional row with the subagent's own rows
    claude_tree(claude_dir)
    import_claude(claude_dir)
    assert _ledger("SELECT count(*) FROM usage WHERE provisional IS NOT NULL") == [(0,)]
    proc = _export(receiver)
    assert proc.returncode == 0 and "still open" not in proc.stdout
    spans = receiver.spans()
    (handoff,) = [s for s in spans if s["attributes"].get("tierwise.skill") == "css-layout-debugger"
                  and s["attributes"].get("tierwise.run.kind")]
    children = [s for s in spans if s["parent_span_id"] == handoff["span_id"]]
    assert len(children) == 2 and handoff["attributes"]["tierwise.requests"] == 2
    assert all("tierwise.provisional" not in s["attributes"] for s in spans)
    assert {c["attributes"]["tierwise.origin"] for c in children} == {"import"}


def test_a_provisional_row_sent_after_a_day_is_not_sent_again_as_its_replacement(
        tmp_path: Path, isolated_home: Path, receiver: Receiver, repo_root: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from tierwise.export import otel, spans as plan

    claude_dir = _provisional_handoff(tmp_path, isolated_home, repo_root, monkeypatch)
    settings = otel.resolve_settings(receiver.base_url, 5, None)
    later = int(time.time() * 1000) + plan.PROVISIONAL_QUIET_MS + 60_000
    conn = connection.connect()
    try:
        result = otel.export(conn, settings, now_ms=later)  # a day on: the payload's figure is what there is
    finally:
        conn.close()
    assert result["sent"] == {"spans": 2, "runs": 1, "requests": 1, "traces": 1, "batches": 1}
    (provisional,) = [s for s in receiver.spans() if s["name"].startswith("chat ")]
    assert provisional["attributes"]["tierwise.provisional"] == "last_request"
    assert provisional["attributes"]["tierwise.origin"] == "hook_payload"
    # then the transcript turns up after all: the row that replaced it is that same request
    claude_tree(claude_dir)
    import_claude(claude_dir)
    replaced_by = _ledger("SELECT replaced_by FROM usage_replaced")[0][0]
    assert _export(receiver).returncode == 0
    sent = [s["attributes"].get("gen_ai.response.id") for s in receiver.spans() if s["name"].startswith("chat ")
            and s["attributes"].get("tierwise.agent_id") == RECORDED_AGENT]
    (final_message,) = _ledger("SELECT message_id FROM usage WHERE id = ?", (replaced_by,))[0]
    assert final_message not in sent  # the provisional span already stands for it
    assert len(sent) == 2  # the provisional figure + the subagent's other request: two requests, each once
    assert (str(replaced_by),) in [(r[2],) for r in sent_rows()]


def test_enforcement_is_passed_on_when_the_ledger_records_it() -> None:
    """The decision's ``enforcement`` column (issue 11) when present, else the §5.1
    record's key; absent when neither says (tierwise does not guess it)."""
    from tierwise.export import spans as plan

    decision = {"run_id": "s:t1", "session_id": "s", "skill": "x", "tool": "Skill", "tier": "haiku",
                "preferred": "haiku", "ts": 1_000, "blocked": 0}
    attrs = plan.run_plan("s:t1", "s", decision, None, [])["attributes"]
    assert "tierwise.enforcement" not in attrs
    attrs = plan.run_plan("s:t1", "s", {**decision, "enforcement": "enforced",
                                        "enforcement_note": "forked copy on haiku"}, None, [])["attributes"]
    assert (attrs["tierwise.enforcement"], attrs["tierwise.enforcement_note"]) == ("enforced", "forked copy on haiku")
    skill_run = {"run_id": "s:t1", "ts": 2_000, "record": '{"enforced": false}'}
    assert plan.run_plan("s:t1", "s", decision, skill_run, [])["attributes"]["tierwise.enforcement"] == "advisory"
