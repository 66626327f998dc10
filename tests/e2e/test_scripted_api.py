"""The scripted API itself, spoken to over HTTP the way the clients do (no
clients needed: these run in every test run, e2e or not)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from scripted_api import Rule, ScriptedAPI, Usage, iter_sse, text, tool, tools


def post(api: ScriptedAPI, path: str, body: Any) -> tuple[int, bytes, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(api.base_url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


SCRIPT = [
    Rule("sub", "Load skills/y/SKILL.md", [text("sub done", Usage(5, 6, cache_read=7, cache_write=8))]),
    Rule("main", "do the thing", [
        tool("Agent", {"prompt": "Load skills/y/SKILL.md", "nested": {"a": [1, 2, "three"]}}, Usage(100, 20, 30, 40)),
        tools([("Read", {"file_path": "/x"}), ("Skill", {"skill": "x"})], Usage(200, 21)),
        text("all done", Usage(300, 22)),
    ]),
]


@pytest.fixture
def api() -> Any:
    with ScriptedAPI(SCRIPT) as server:
        yield server


def anthropic_stream(api: ScriptedAPI, messages: list[Any], model: str = "claude-opus-4-8") -> list[tuple[str | None, Any]]:
    status, raw, ctype = post(api, "/v1/messages?beta=true", {"model": model, "stream": True, "max_tokens": 100,
                                                              "messages": messages})
    assert status == 200 and ctype.startswith("text/event-stream")
    return [(event, json.loads(data)) for event, data in iter_sse(raw)]


def assemble_anthropic(events: list[tuple[str | None, Any]]) -> tuple[list[Any], Any, Any]:
    """What a client makes of the stream: content blocks, start usage, final usage."""
    blocks: list[Any] = []
    partial: dict[int, str] = {}
    start_usage = final_usage = None
    for event, data in events:
        assert event == data["type"]
        if event == "message_start":
            start_usage = data["message"]["usage"]
        elif event == "content_block_start":
            blocks.append(dict(data["content_block"]))
        elif event == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                blocks[data["index"]]["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif event == "content_block_stop" and data["index"] in partial:
            blocks[data["index"]]["input"] = json.loads(partial[data["index"]])
        elif event == "message_delta":
            final_usage = data["usage"]
    return blocks, start_usage, final_usage


def test_anthropic_stream_plays_the_script_turn_by_turn(api: ScriptedAPI) -> None:
    opening = [{"role": "user", "content": [{"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                                            {"type": "text", "text": "please do the thing"}]}]
    events = anthropic_stream(api, opening)
    names = [e for e, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    blocks, start_usage, final_usage = assemble_anthropic(events)
    assert [b["type"] for b in blocks] == ["tool_use"]
    assert blocks[0]["name"] == "Agent"
    assert blocks[0]["input"] == {"prompt": "Load skills/y/SKILL.md", "nested": {"a": [1, 2, "three"]}}
    assert start_usage["input_tokens"] == 100 and start_usage["cache_read_input_tokens"] == 30
    assert final_usage == {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 40,
                           "cache_read_input_tokens": 30}
    assert dict(events)["message_delta"]["delta"]["stop_reason"] == "tool_use"

    # the subagent's conversation is told apart by its opening
    sub_events = anthropic_stream(api, [{"role": "user", "content": "Load skills/y/SKILL.md"}], "claude-haiku-4-5")
    sub_blocks, _, sub_usage = assemble_anthropic(sub_events)
    assert sub_blocks == [{"type": "text", "text": "sub done"}]
    assert sub_usage["cache_creation_input_tokens"] == 8

    # turn 2: the conversation now holds the server's first answer
    convo = opening + [{"role": "assistant", "content": blocks},
                       {"role": "user", "content": [{"type": "tool_result", "tool_use_id": blocks[0]["id"],
                                                     "content": "sub done"}]}]
    blocks2, _, _ = assemble_anthropic(anthropic_stream(api, convo))
    assert [(b["name"], b["input"]) for b in blocks2] == [("Read", {"file_path": "/x"}), ("Skill", {"skill": "x"})]
    convo += [{"role": "assistant", "content": blocks2}, {"role": "user", "content": "results"}]
    blocks3, _, usage3 = assemble_anthropic(anthropic_stream(api, convo))
    assert blocks3 == [{"type": "text", "text": "all done"}] and usage3["output_tokens"] == 22

    assert [(r.rule, r.turn, r.model, r.reply) for r in api.requests] == [
        ("main", 0, "claude-opus-4-8", "tool_use"), ("sub", 0, "claude-haiku-4-5", "text"),
        ("main", 1, "claude-opus-4-8", "tool_use"), ("main", 2, "claude-opus-4-8", "text")]
    assert api.models("sub") == {"claude-haiku-4-5"}
    assert api.requests[0].usage == Usage(100, 20, 30, 40)
    assert "please do the thing" in api.requests[0].body_text
    assert api.problems == []


def test_a_retried_request_gets_the_same_turn(api: ScriptedAPI) -> None:
    opening = [{"role": "user", "content": "do the thing"}]
    first = assemble_anthropic(anthropic_stream(api, opening))[0]
    again = assemble_anthropic(anthropic_stream(api, opening))[0]
    assert first[0]["input"] == again[0]["input"] and first[0]["name"] == again[0]["name"] == "Agent"
    assert [r.turn for r in api.requests] == [0, 0]


def test_anthropic_non_stream_and_side_requests(api: ScriptedAPI) -> None:
    status, raw, _ = post(api, "/v1/messages", {"model": "m", "messages": [{"role": "user", "content": "do the thing"}]})
    message = json.loads(raw)
    assert status == 200 and message["type"] == "message" and message["stop_reason"] == "tool_use"
    assert message["content"][0]["input"]["nested"] == {"a": [1, 2, "three"]}
    assert message["usage"]["cache_creation_input_tokens"] == 40
    status, raw, _ = post(api, "/v1/messages/count_tokens", {"model": "m", "messages": []})
    assert status == 200 and json.loads(raw)["input_tokens"] >= 1
    with urllib.request.urlopen(api.base_url + "/v1/models", timeout=10) as resp:
        assert [m["id"] for m in json.loads(resp.read())["data"]]
    assert [r.reply for r in api.requests] == ["tool_use", "count_tokens", "models"]
    assert api.problems == []


def openai_stream(api: ScriptedAPI, messages: list[Any], usage: bool = True) -> list[Any]:
    body: dict[str, Any] = {"model": "qwen-x", "stream": True, "messages": messages}
    if usage:
        body["stream_options"] = {"include_usage": True}
    status, raw, ctype = post(api, "/v1/chat/completions", body)
    assert status == 200 and ctype.startswith("text/event-stream")
    datas = [data for _, data in iter_sse(raw)]
    assert datas[-1] == "[DONE]"
    return [json.loads(d) for d in datas[:-1]]


def test_openai_stream_with_a_client_preamble(api: ScriptedAPI) -> None:
    # Qwen Code opens with a context message and its own canned assistant reply
    preamble = [{"role": "system", "content": "You are Qwen Code"},
                {"role": "user", "content": [{"type": "text", "text": "This is the Qwen Code. context"}]},
                {"role": "assistant", "content": "Got it. Thanks for the context!"},
                {"role": "user", "content": [{"type": "text", "text": "do the thing"}]}]
    chunks = openai_stream(api, preamble)
    calls: dict[int, dict[str, str]] = {}
    for c in chunks[:-1]:
        for tc in c["choices"][0]["delta"].get("tool_calls", []):
            slot = calls.setdefault(tc["index"], {"id": "", "name": "", "arguments": ""})
            slot["id"] += tc.get("id", "")
            slot["name"] += tc.get("function", {}).get("name", "")
            slot["arguments"] += tc["function"].get("arguments", "")
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {
        "prompt_tokens": 130, "completion_tokens": 20, "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 30}}
    assert calls[0]["name"] == "Agent" and json.loads(calls[0]["arguments"])["nested"] == {"a": [1, 2, "three"]}
    assert api.requests[-1].rule == "main" and api.requests[-1].turn == 0

    convo = preamble + [{"role": "assistant", "content": None,
                         "tool_calls": [{"id": calls[0]["id"], "type": "function",
                                         "function": {"name": "Agent", "arguments": calls[0]["arguments"]}}]},
                        {"role": "tool", "tool_call_id": calls[0]["id"], "content": "sub done"}]
    chunks2 = openai_stream(api, convo, usage=False)
    assert all(c["choices"] for c in chunks2), "no usage chunk unless stream_options asks for it"
    names = [tc["function"]["name"] for c in chunks2 for tc in c["choices"][0]["delta"].get("tool_calls", [])
             if "name" in tc.get("function", {})]
    assert names == ["Read", "Skill"] and api.requests[-1].turn == 1
    assert api.problems == []


def test_openai_non_stream(api: ScriptedAPI) -> None:
    status, raw, _ = post(api, "/v1/chat/completions",
                          {"model": "q", "messages": [{"role": "user", "content": "Load skills/y/SKILL.md"}]})
    reply = json.loads(raw)
    assert status == 200 and reply["choices"][0]["message"]["content"] == "sub done"
    assert reply["choices"][0]["finish_reason"] == "stop" and reply["usage"]["prompt_tokens"] == 12


def test_what_the_script_did_not_foresee_is_answered_and_listed(api: ScriptedAPI) -> None:
    assert post(api, "/v1/messages", {"model": "m", "messages": [{"role": "user", "content": "something else"}]})[0] == 200
    convo: list[Any] = [{"role": "user", "content": "Load skills/y/SKILL.md"}]
    first = json.loads(post(api, "/v1/messages", {"model": "m", "messages": convo})[1])
    convo += [{"role": "assistant", "content": first["content"]}, {"role": "user", "content": "more?"}]
    assert post(api, "/v1/messages", {"model": "m", "messages": convo})[0] == 200
    assert post(api, "/v1/elsewhere", {"x": 1})[0] == 404
    assert post(api, "/v1/messages", b"not json")[0] == 400
    assert len(api.problems) == 4, api.problems
    assert "no rule matched" in api.problems[0] and "has 1 turns" in api.problems[1]
    assert api.requests[0].rule is None and api.requests[2].rule == "sub" and api.requests[2].turn == 1


def test_loopback_only_and_bounded_lifetime() -> None:
    with ScriptedAPI(SCRIPT, max_lifetime=0.2) as api:
        assert api.base_url.startswith("http://127.0.0.1:")
        port = api.port
        time.sleep(0.6)
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def test_as_a_proxy_it_tunnels_to_itself_and_refuses_the_rest(api: ScriptedAPI) -> None:
    import http.client

    # through a tunnel to itself (how Qwen Code's proxy agent reaches loopback)
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    conn.set_tunnel("127.0.0.1", api.port)
    conn.request("POST", "/v1/chat/completions", body=json.dumps(
        {"model": "q", "messages": [{"role": "user", "content": "Load skills/y/SKILL.md"}]}),
        headers={"Content-Type": "application/json"})
    reply = json.loads(conn.getresponse().read())
    conn.close()
    assert reply["choices"][0]["message"]["content"] == "sub done"
    assert api.problems == [] and [r.rule for r in api.requests] == ["sub"]

    # anywhere else: refused, recorded, and a problem (the fixture fails the test)
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    conn.set_tunnel("api.anthropic.com", 443)
    with pytest.raises(OSError, match="403"):
        conn.request("GET", "/")
    conn.close()
    assert api.problems == ["a client tried to reach api.anthropic.com:443 (off loopback) through the proxy"]
    api.problems.clear()
