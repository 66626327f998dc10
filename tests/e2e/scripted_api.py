"""A scripted model API on loopback for the end-to-end tests.

One ``ScriptedAPI`` (a stdlib ThreadingHTTPServer on 127.0.0.1, port 0) speaks
both protocols the real clients use:

* Anthropic Messages, ``POST /v1/messages`` (Claude Code; streamed as
  server-sent events or as one JSON body), plus ``/v1/messages/count_tokens``
  and ``GET /v1/models`` for the side requests a client may make;
* OpenAI Chat Completions, ``POST /v1/chat/completions`` (Qwen Code; streamed
  chunks or one JSON body), plus ``GET /v1/models``;
* OpenAI Responses, ``POST /v1/responses`` (Codex CLI; server-sent events:
  response.created, response.output_item.added/.done, response.completed with
  the usage). A tool call is a ``function_call`` output item; a tool the
  request lists inside a namespace (Codex's ``spawn_agent`` in
  ``collaboration``) is called with that ``namespace``.

What it answers is a **script**: a list of ``Rule`` objects. A request belongs
to the first rule whose ``match`` text occurs in the conversation's *opening*:
the user messages before the first answer this server gave (a subagent's
conversation opens with the subagent's prompt, the main one with the user's
prompt, after whatever context the client puts first); ``match=None`` matches
any conversation. The turn a rule plays is the number of this server's answers
already in the conversation (recognised by the tool call ids and texts it
issued), so a retried request gets the same answer, nothing depends on timing,
and assistant messages a client makes up itself do not count. Each
turn is final text, one or more tool calls, or both, with the usage numbers the
API reports for it.

Every request is recorded (``Recorded``: path, protocol, model, the full JSON
body, the rule and turn it matched, the usage returned) for assertions. Problems
the script did not foresee (no rule matched, a rule ran out of turns, an unknown
path, a body that is not JSON) are answered harmlessly and listed in
``ScriptedAPI.problems``; the fixtures fail a test that leaves any.

The server binds to 127.0.0.1 only, answers nothing but the routes above, and
shuts itself down after ``max_lifetime`` seconds even if a test forgets to. The
fixtures also make it the clients' HTTP(S) proxy: a CONNECT to itself is served
as a tunnel, a CONNECT anywhere else is refused and listed in ``problems``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

JSON = dict[str, Any]


@dataclass(frozen=True)
class Usage:
    """What the API says a turn cost. ``cache_write`` is Anthropic's
    cache_creation_input_tokens; OpenAI has no cache writes and reports
    ``cache_read`` as prompt_tokens_details.cached_tokens (inside prompt_tokens)."""

    input_tokens: int = 100
    output_tokens: int = 10
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0  # Responses API: reasoning tokens, counted inside output_tokens

    def anthropic(self) -> JSON:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_write,
            "cache_read_input_tokens": self.cache_read,
        }

    def openai(self) -> JSON:
        prompt = self.input_tokens + self.cache_read
        return {
            "prompt_tokens": prompt,
            "completion_tokens": self.output_tokens,
            "total_tokens": prompt + self.output_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cache_read},
        }

    def responses(self) -> JSON:
        prompt = self.input_tokens + self.cache_read
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": self.cache_read},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": self.reasoning},
            "total_tokens": prompt + self.output_tokens,
        }


@dataclass(frozen=True)
class ToolCall:
    name: str
    input: JSON


@dataclass(frozen=True)
class Turn:
    """One assistant response: optional text, then tool calls (in order)."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        if self.text is None and not self.tool_calls:
            raise ValueError("a Turn needs text or at least one tool call")


def text(content: str, usage: Usage | None = None) -> Turn:
    """A final answer: the client ends this conversation (or subagent)."""
    return Turn(text=content, usage=usage or Usage())


def tool(name: str, input: JSON, usage: Usage | None = None, *, say: str | None = None) -> Turn:
    """A turn that calls one tool (``say`` adds text before the call)."""
    return Turn(text=say, tool_calls=(ToolCall(name, dict(input)),), usage=usage or Usage())


def tools(calls: Sequence[tuple[str, JSON]], usage: Usage | None = None) -> Turn:
    """A turn that calls several tools at once."""
    return Turn(tool_calls=tuple(ToolCall(n, dict(i)) for n, i in calls), usage=usage or Usage())


Matcher = str | Callable[[str], bool] | None


@dataclass(frozen=True)
class Rule:
    """A conversation and what the model does in it, turn by turn.

    ``match``: text that must occur in the conversation's opening (its user text before the first scripted answer),
    a predicate on the opening text, or None for any conversation."""

    name: str
    match: Matcher
    turns: tuple[Turn, ...]

    def __init__(self, name: str, match: Matcher, turns: Sequence[Turn]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "match", match)
        object.__setattr__(self, "turns", tuple(turns))
        if not self.turns:
            raise ValueError(f"rule {name!r} has no turns")

    def matches(self, opening: str) -> bool:
        if self.match is None:
            return True
        if isinstance(self.match, str):
            return self.match in opening
        return bool(self.match(opening))


@dataclass
class Recorded:
    """One request the API saw and what it answered."""

    method: str
    path: str
    protocol: str  # "anthropic" | "openai" | "responses" | "other"
    body: JSON | None
    model: str | None
    stream: bool
    opening: str  # the user text the conversation opened with (what rules match)
    rule: str | None
    turn: int | None
    usage: Usage | None
    reply: str  # "text" | "tool_use" | "count_tokens" | "models" | "error"
    tool_calls: tuple[ToolCall, ...] = ()
    at: float = 0.0

    @property
    def body_text(self) -> str:
        """The whole request body as JSON text, for 'did X reach the model' checks."""
        return json.dumps(self.body, ensure_ascii=False) if self.body is not None else ""


def text_of(content: Any) -> str:
    """The plain text of a message content (a string or a list of blocks, either protocol)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict):
                if isinstance(block.get("text"), str):
                    parts.append(block["text"])
                elif block.get("type") == "tool_result":
                    parts.append(text_of(block.get("content")))
            elif isinstance(block, str):
                parts.append(block)
    return "\n".join(parts)


def _assistant_parts(message: JSON) -> tuple[list[str], list[str]]:
    """(texts, tool call ids) of an assistant message in either protocol."""
    texts: list[str] = []
    ids: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        texts.append(content)
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                ids.append(block["id"])
    for call in message.get("tool_calls") or ():
        if isinstance(call, dict) and isinstance(call.get("id"), str):
            ids.append(call["id"])
    return texts, ids


class ScriptedAPI:
    """The loopback server. Use as a context manager, or ``start()``/``close()``."""

    def __init__(self, script: Sequence[Rule] = (), *, max_lifetime: float = 900.0) -> None:
        self._lock = threading.Lock()
        self._script: tuple[Rule, ...] = tuple(script)
        self.requests: list[Recorded] = []
        self.problems: list[str] = []
        self._ids = itertools.count(1)
        # what this server answered, to tell its turns from client-made ones
        # (Qwen Code opens every conversation with a context message and a
        # canned "Got it. Thanks for the context!" assistant message)
        self._produced_ids: set[str] = set()
        self._produced_texts: set[str] = set()
        self._answer_of: dict[str, str] = {}  # Responses API: call id / "text:" + text -> response id
        self._max_lifetime = max_lifetime
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        # Anthropic streams: the output count message_start carries. None: the final usage already (the real
        # API sends 1 there and the final count in message_delta; Claude Code writes a subagent's message to its
        # transcript when the content block ends, with whatever count it holds when the write happens, so with
        # the real API's 1 what a transcript says would depend on timing). An int: the real API's way, for the
        # tests of those early counts (tests/e2e/test_stream_snapshots.py).
        self.early_output: int | None = None
        # Called with (message id, rule name) in an Anthropic stream after the last content block and before
        # message_delta (the final usage): a test holds the stream there on purpose, e.g. until the client has
        # written the message to its transcript with message_start's early output count.
        self.before_final_usage: Callable[[str, str | None], None] | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> ScriptedAPI:
        api = self

        class Handler(_Handler):
            owner = api

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="scripted-api", daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self._max_lifetime, self.close)
        self._timer.daemon = True
        self._timer.start()
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> ScriptedAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        assert self._server is not None, "ScriptedAPI is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root URL: Claude Code's ANTHROPIC_BASE_URL (OpenAI clients add /v1)."""
        return f"http://127.0.0.1:{self.port}"

    # -- script and records --------------------------------------------------
    def set_script(self, script: Sequence[Rule]) -> None:
        with self._lock:
            self._script = tuple(script)

    def mark(self) -> int:
        """Index to slice ``requests`` from (the fixtures use it per client run)."""
        with self._lock:
            return len(self.requests)

    def for_rule(self, name: str, since: int = 0) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests[since:] if r.rule == name]

    def models(self, rule: str, since: int = 0) -> set[str]:
        return {r.model for r in self.for_rule(rule, since) if r.model}

    # -- answering -----------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    def _is_ours(self, message: JSON) -> bool:
        texts, ids = _assistant_parts(message)
        with self._lock:
            return any(i in self._produced_ids for i in ids) or any(
                t.strip() in self._produced_texts for t in texts if t.strip())

    def opening_and_turn(self, messages: Any) -> tuple[str, int]:
        """The conversation's opening (the text of the user messages before the
        first answer this server gave) and how many of its answers it holds."""
        opening: list[str] = []
        turn = 0
        for message in messages if isinstance(messages, list) else ():
            if not isinstance(message, dict):
                continue
            if message.get("role") == "assistant" and self._is_ours(message):
                turn += 1
            elif message.get("role") == "user" and turn == 0:
                opening.append(text_of(message.get("content")))
        return "\n".join(opening), turn

    def responses_opening_and_turn(self, items: Any) -> tuple[str, int]:
        """``opening_and_turn`` for a Responses API ``input`` list: the user
        messages before the first item this server produced, and how many of
        its answers the input holds (an answer's items can come back apart,
        each call next to its output, so they are counted by answer). A Codex
        subagent's task arrives as an ``agent_message`` item: part of the opening."""
        opening: list[str] = []
        answers: set[str] = set()
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            kind = item.get("type", "message")
            answer = None
            with self._lock:
                if kind == "function_call":
                    answer = self._answer_of.get(str(item.get("call_id")))
                elif kind == "message" and item.get("role") == "assistant":
                    said = text_of(item.get("content")).strip()
                    answer = self._answer_of.get("text:" + said) if said else None
            if answer is not None:
                answers.add(answer)
            elif kind == "message" and item.get("role") == "user" and not answers:
                opening.append(text_of(item.get("content")))
            elif kind == "agent_message" and not answers:
                # Codex hands a subagent its task as an agent message; the task text is an
                # "encrypted_content" part (encrypted by the real API, plain text from the client)
                for part in item.get("content") or ():
                    if isinstance(part, dict):
                        said = part.get("text") if part.get("type") == "input_text" else part.get("encrypted_content")
                        if isinstance(said, str):
                            opening.append(said)
        return "\n".join(opening), len(answers)

    def _produced(self, turn: Turn, ids: Sequence[str]) -> None:
        with self._lock:
            self._produced_ids.update(ids)
            if turn.text and turn.text.strip():
                self._produced_texts.add(turn.text.strip())

    def _choose(self, body: JSON, messages: Any, *, responses: bool = False
                ) -> tuple[Rule | None, int, Turn | None, str]:
        first, turn_index = (self.responses_opening_and_turn(messages) if responses
                             else self.opening_and_turn(messages))
        with self._lock:
            script = self._script
        for rule in script:
            if rule.matches(first):
                if turn_index < len(rule.turns):
                    return rule, turn_index, rule.turns[turn_index], first
                self._problem(
                    f"rule {rule.name!r} has {len(rule.turns)} turns but the client asked for turn "
                    f"{turn_index + 1} (model {body.get('model')!r})"
                )
                return rule, turn_index, None, first
        self._problem(f"no rule matched a conversation starting {first[:200]!r} (model {body.get('model')!r})")
        return None, turn_index, None, first

    def _problem(self, message: str) -> None:
        with self._lock:
            self.problems.append(message)

    def _record(self, rec: Recorded) -> None:
        rec.at = time.monotonic()
        with self._lock:
            self.requests.append(rec)


_FALLBACK = Turn(text="(the scripted API has no answer for this request)", usage=Usage(1, 1))


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedAPI
    protocol_version = "HTTP/1.1"
    server_version = "tierwise-scripted-api"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    # -- plumbing --------------------------------------------------------------
    def _read_json(self) -> tuple[JSON | None, str | None]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None, None
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return None, f"body is not JSON: {exc}"
        if not isinstance(body, dict):
            return None, "body is not a JSON object"
        return body, None

    def _send_json(self, status: int, payload: JSON) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", self.owner._new_id("req_"))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("request-id", self.owner._new_id("req_"))
        self.end_headers()
        self.close_connection = True

    def _sse(self, event: str | None, data: JSON | str) -> None:
        payload = data if isinstance(data, str) else json.dumps(data)
        chunk = (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"
        self.wfile.write(chunk.encode())
        self.wfile.flush()

    def _other(self, body: JSON | None, reply: str) -> Recorded:
        return Recorded(
            method=self.command, path=self.path, protocol="other", body=body, model=None, stream=False,
            opening="", rule=None, turn=None, usage=None, reply=reply,
        )

    # -- routes ----------------------------------------------------------------
    def do_GET(self) -> None:
        route = urlsplit(self.path).path.rstrip("/")
        if route in ("/v1/models", "/models"):
            self.owner._record(self._other(None, "models"))
            models = ["claude-opus-4-8", "claude-sonnet-5", "claude-haiku-4-5-20251001"]
            self._send_json(200, {
                "object": "list", "has_more": False, "first_id": models[0], "last_id": models[-1],
                "data": [{"type": "model", "id": m, "object": "model", "display_name": m,
                          "created_at": "2026-01-01T00:00:00Z", "owned_by": "scripted"} for m in models],
            })
            return
        self._unknown(None)

    def do_POST(self) -> None:
        route = urlsplit(self.path).path.rstrip("/")
        body, error = self._read_json()
        if error is not None or body is None:
            self.owner._problem(f"{self.command} {self.path}: {error or 'empty body'}")
            self.owner._record(self._other(body, "error"))
            self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": error or "empty body"}})
            return
        if route == "/v1/messages":
            self._anthropic(body)
        elif route == "/v1/messages/count_tokens":
            self.owner._record(self._other(body, "count_tokens"))
            self._send_json(200, {"input_tokens": max(1, len(json.dumps(body)) // 4)})
        elif route in ("/v1/chat/completions", "/chat/completions"):
            self._openai(body)
        elif route in ("/v1/responses", "/responses"):
            self._responses(body)
        else:
            self._unknown(body)

    def do_CONNECT(self) -> None:
        # This server doubles as the clients' HTTP(S) proxy. A tunnel to itself is
        # served on the same connection (Qwen Code's proxy agent ignores NO_PROXY
        # and tunnels loopback too); anything else is a client trying to leave
        # loopback: refused and listed as a problem.
        host, _, port = self.path.rpartition(":")
        if host.strip("[]") in ("127.0.0.1", "localhost", "::1") and port == str(self.owner.port):
            self.send_response(200, "Connection Established")
            self.end_headers()
            self.close_connection = False
            return
        self.owner._problem(f"a client tried to reach {self.path} (off loopback) through the proxy")
        self.owner._record(self._other(None, "error"))
        self._send_json(403, {"error": "the end-to-end tests allow no traffic off loopback"})

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _unknown(self, body: JSON | None) -> None:
        self.owner._problem(f"unexpected request {self.command} {self.path}")
        self.owner._record(self._other(body, "error"))
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": f"no route {self.path}"}})

    # -- Anthropic Messages ---------------------------------------------------------
    def _anthropic(self, body: JSON) -> None:
        owner = self.owner
        messages = body.get("messages")
        rule, index, turn, first = owner._choose(body, messages)
        turn = turn or _FALLBACK
        model = str(body.get("model") or "")
        stream = bool(body.get("stream"))
        owner._record(Recorded(
            method="POST", path=self.path, protocol="anthropic", body=body, model=model or None, stream=stream,
            opening=first, rule=rule.name if rule else None, turn=index, usage=turn.usage,
            reply="tool_use" if turn.tool_calls else "text", tool_calls=turn.tool_calls,
        ))
        message_id = owner._new_id("msg_scripted_")
        blocks: list[JSON] = []
        if turn.text is not None:
            blocks.append({"type": "text", "text": turn.text})
        for call in turn.tool_calls:
            blocks.append({"type": "tool_use", "id": owner._new_id("toolu_scripted_"), "name": call.name, "input": call.input})
        owner._produced(turn, [b["id"] for b in blocks if b["type"] == "tool_use"])
        stop_reason = "tool_use" if turn.tool_calls else "end_turn"
        usage = turn.usage.anthropic()
        if not stream:
            self._send_json(200, {
                "id": message_id, "type": "message", "role": "assistant", "model": model,
                "content": blocks, "stop_reason": stop_reason, "stop_sequence": None, "usage": usage,
            })
            return
        self._start_stream()
        self._sse("message_start", {"type": "message_start", "message": {
            "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": usage if owner.early_output is None else {**usage, "output_tokens": owner.early_output},
        }})
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                self._sse("content_block_start", {"type": "content_block_start", "index": i,
                                                  "content_block": {"type": "text", "text": ""}})
                self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                  "delta": {"type": "text_delta", "text": block["text"]}})
            else:
                self._sse("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                args = json.dumps(block["input"])
                half = len(args) // 2  # two deltas, as the real API splits partial JSON
                for piece in (args[:half], args[half:]):
                    self._sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                      "delta": {"type": "input_json_delta", "partial_json": piece}})
            self._sse("content_block_stop", {"type": "content_block_stop", "index": i})
        if owner.before_final_usage is not None:
            owner.before_final_usage(message_id, rule.name if rule else None)
        self._sse("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                    "usage": usage})
        self._sse("message_stop", {"type": "message_stop"})

    # -- OpenAI Chat Completions ---------------------------------------------------------
    def _openai(self, body: JSON) -> None:
        owner = self.owner
        messages = body.get("messages")
        rule, index, turn, first = owner._choose(body, messages)
        turn = turn or _FALLBACK
        model = str(body.get("model") or "")
        stream = bool(body.get("stream"))
        owner._record(Recorded(
            method="POST", path=self.path, protocol="openai", body=body, model=model or None, stream=stream,
            opening=first, rule=rule.name if rule else None, turn=index, usage=turn.usage,
            reply="tool_use" if turn.tool_calls else "text", tool_calls=turn.tool_calls,
        ))
        completion_id = owner._new_id("chatcmpl-scripted-")
        created = int(time.time())
        calls: list[JSON] = [{"id": owner._new_id("call_scripted_"), "type": "function",
                  "function": {"name": c.name, "arguments": json.dumps(c.input)}} for c in turn.tool_calls]
        owner._produced(turn, [c["id"] for c in calls])
        finish = "tool_calls" if calls else "stop"
        usage = turn.usage.openai()
        if not stream:
            message: JSON = {"role": "assistant", "content": turn.text}
            if calls:
                message["tool_calls"] = calls
            self._send_json(200, {
                "id": completion_id, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage,
            })
            return

        def chunk(delta: JSON, finish_reason: str | None = None) -> JSON:
            return {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

        self._start_stream()
        self._sse(None, chunk({"role": "assistant", "content": ""}))
        if turn.text is not None:
            self._sse(None, chunk({"content": turn.text}))
        for i, call in enumerate(calls):
            args = call["function"]["arguments"]
            half = len(args) // 2
            self._sse(None, chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                                   "function": {"name": call["function"]["name"], "arguments": args[:half]}}]}))
            self._sse(None, chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]}))
        self._sse(None, chunk({}, finish))
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            self._sse(None, {"id": completion_id, "object": "chat.completion.chunk", "created": created,
                             "model": model, "choices": [], "usage": usage})
        self._sse(None, "[DONE]")


    # -- OpenAI Responses (Codex CLI) --------------------------------------------------
    def _responses(self, body: JSON) -> None:
        owner = self.owner
        rule, index, turn, first = owner._choose(body, body.get("input"), responses=True)
        turn = turn or _FALLBACK
        model = str(body.get("model") or "")
        owner._record(Recorded(
            method="POST", path=self.path, protocol="responses", body=body, model=model or None,
            stream=bool(body.get("stream")), opening=first, rule=rule.name if rule else None, turn=index,
            usage=turn.usage, reply="tool_use" if turn.tool_calls else "text", tool_calls=turn.tool_calls,
        ))
        response_id = owner._new_id("resp_scripted_")
        # Codex 0.171 lists its tools in an ``additional_tools`` input item, not in ``tools``
        listed = [*(body.get("tools") or [])]
        for entry in body.get("input") or ():
            if isinstance(entry, dict) and entry.get("type") == "additional_tools":
                listed.extend(entry.get("tools") or [])
        namespaces = _namespaces(listed)
        items: list[JSON] = []
        if turn.text is not None:
            items.append({"type": "message", "id": owner._new_id("msg_scripted_"), "role": "assistant",
                          "status": "completed",
                          "content": [{"type": "output_text", "text": turn.text, "annotations": []}]})
        for call in turn.tool_calls:
            item: JSON = {"type": "function_call", "id": owner._new_id("fc_scripted_"),
                          "call_id": owner._new_id("call_scripted_"), "name": call.name,
                          "arguments": json.dumps(call.input), "status": "completed"}
            if call.name in namespaces:
                item["namespace"] = namespaces[call.name]
            items.append(item)
        owner._produced(turn, [i["call_id"] for i in items if i["type"] == "function_call"])
        with owner._lock:
            for i in items:
                key = i["call_id"] if i["type"] == "function_call" else "text:" + (turn.text or "").strip()
                owner._answer_of[key] = response_id
        usage = turn.usage.responses()
        head = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model,
                "status": "in_progress", "output": []}
        self._start_stream()
        self._sse("response.created", {"type": "response.created", "response": head})
        for i, item in enumerate(items):
            self._sse("response.output_item.added", {"type": "response.output_item.added", "output_index": i,
                                                     "item": {**item, "status": "in_progress"}})
            if item["type"] == "message":
                self._sse("response.output_text.delta", {"type": "response.output_text.delta",
                                                         "item_id": item["id"], "output_index": i,
                                                         "content_index": 0, "delta": turn.text})
            self._sse("response.output_item.done", {"type": "response.output_item.done", "output_index": i,
                                                    "item": item})
        self._sse("response.completed", {"type": "response.completed",
                                         "response": {**head, "status": "completed", "output": items,
                                                      "usage": usage}})


def _namespaces(tools: Any) -> dict[str, str]:
    """Tool name -> namespace, for the tools a Responses request lists inside a namespace."""
    out: dict[str, str] = {}
    for entry in tools if isinstance(tools, list) else ():
        if isinstance(entry, dict) and entry.get("type") == "namespace" and isinstance(entry.get("name"), str):
            for inner in entry.get("tools") or ():
                if isinstance(inner, dict) and isinstance(inner.get("name"), str):
                    out[inner["name"]] = entry["name"]
    return out


def iter_sse(raw: bytes) -> Iterator[tuple[str | None, str]]:
    """Parse a server-sent-event stream into (event, data) pairs (used by the self-tests)."""
    for block in raw.decode().split("\n\n"):
        event: str | None = None
        data: list[str] = []
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        if data:
            yield event, "\n".join(data)


# $CODEX_HOME/config.toml for a Codex run against this API (format: model, base_url): the
# scripted API as the only model provider, nothing that would reach off loopback (update
# check, analytics, apps/plugins catalogs).
CODEX_CONFIG = """model = "{model}"
model_provider = "scripted"
check_for_update_on_startup = false

[model_providers.scripted]
name = "scripted"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "SCRIPTED_API_KEY"

[analytics]
enabled = false

[features]
apps = false
plugins = false
remote_plugin = false
tool_suggest = false
"""
