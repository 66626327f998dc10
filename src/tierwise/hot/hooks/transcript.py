"""Usage from Claude Code transcripts, read by hooks (hot: stdlib only).

- :func:`agent_usage_rows`: every request of one subagent, from
  ``<session>/subagents/agent-<id>.jsonl``. PostToolUse(Agent)'s
  ``tool_response.usage`` is only the subagent's *last* request (seen in the
  recorded payloads: two requests in the transcript, one in ``usage``), so the
  transcript is the exact record when it is there; when its last lines are not
  on disk yet (:func:`holds_request`), ``usage`` becomes a provisional row.
- :func:`main_usage_rows`: the main conversation's new lines since an offset,
  each attributed to the inline skill active when it was written (the ledger
  importer's rule).

One API response can be written as several lines: each (message.id,
requestId) counts once. Only ``.jsonl`` files under the client's own config
directories are read, and only when they are regular files (a FIFO or a
device named ``*.jsonl`` is never opened for reading; a missing file has no
rows).

Reads are bounded (:class:`Scan`): a file is read in 1 MiB blocks, a line
longer than MAX_LINE is skipped without being held, only lines that can
carry what the caller wants are parsed (a blank line or ``{}`` costs a
``find``), and one call stops at MAX_SCAN bytes, MAX_ROWS rows or its time
slice (within the hook's deadline), at a line boundary: Stop carries on from
there next time; a subagent transcript cut short says so (``tierwise import``
reads the rest).

Hot module.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os
import time
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

MAX_LINE = 8 * 1024 * 1024  # a line that carries usage is far smaller; longer lines are skipped
MAX_SCAN = 256 * 1024 * 1024  # bytes looked at per call
MAX_ROWS = 5_000  # usage rows per call: recording them is the larger part of a Stop
BLOCK = 1024 * 1024
SLICE_S = 1.0  # time one call may take, within the hook's deadline
GRACE_BYTES = 1024 * 1024  # read whatever the time: a small transcript is never cut
_EOL = b"\r\n"


def _roots() -> list[str]:
    """Where client transcripts may be read from: ``~/.claude``, ``~/.qwen``,
    ``~/.codex`` and ``$CODEX_HOME/sessions``, and ``$CLAUDE_CONFIG_DIR`` — taken
    whole, and each of its comma-separated directories too, the list ``tierwise
    import`` (and ccusage) reads."""
    home = os.path.expanduser("~")
    roots = [os.path.join(home, ".claude"), os.path.join(home, ".qwen"), os.path.join(home, ".codex")]
    codex_home = os.environ.get("CODEX_HOME") or ""
    if codex_home and os.path.isabs(codex_home):
        roots.append(os.path.join(codex_home, "sessions"))
    extra = os.environ.get("CLAUDE_CONFIG_DIR") or ""
    for item in {extra, *(part.strip() for part in extra.split(","))}:
        if item and os.path.isabs(item):
            roots.append(item)
    return [os.path.realpath(r) for r in roots]


def allowed(path: object) -> str | None:
    """The real path of a client transcript tierwise may read, else None."""
    if not isinstance(path, str) or not path.endswith(".jsonl") or "\x00" in path or not os.path.isabs(path):
        return None
    real = os.path.realpath(path)
    for root in _roots():
        if real.startswith(root.rstrip(os.sep) + os.sep):
            return real
    return None


def _usage_row(entry: dict[str, Any], path: str, inode: int, offset: int, line: bytes) -> dict[str, Any] | None:
    message = entry.get("message")
    if entry.get("type") != "assistant" or not isinstance(message, dict):
        return None
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None

    def n(key: str, src: dict[str, Any] = usage) -> int:
        v = src.get(key)
        return int(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0

    written = n("cache_creation_input_tokens")
    creation = usage.get("cache_creation")
    w1 = w5 = 0
    if isinstance(creation, dict) and n("ephemeral_1h_input_tokens", creation) + n("ephemeral_5m_input_tokens", creation) == written:
        w1, w5 = n("ephemeral_1h_input_tokens", creation), n("ephemeral_5m_input_tokens", creation)
    else:
        w5 = written
    mid = message.get("id") if isinstance(message.get("id"), str) else None
    rid = entry.get("requestId") if isinstance(entry.get("requestId"), str) else None
    model = message.get("model") if isinstance(message.get("model"), str) else None
    ts = entry.get("timestamp") if isinstance(entry.get("timestamp"), str) else None
    content = message.get("content")
    tool_use = False
    texts = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "tool_use":
                    tool_use = True
                elif block.get("type") == "text" and isinstance(block.get("text"), str):
                    texts.append(block["text"])
    final_text = "\n".join(texts).strip()[-TEXT_TAIL:] if texts and not tool_use else None
    return {
        "model": model,
        "input": n("input_tokens"),
        "output": n("output_tokens"),
        "cache_read": n("cache_read_input_tokens"),
        "cache_write_5m": w5,
        "cache_write_1h": w1,
        "message_id": mid,
        "request_id": rid,
        # the importer's key for the same line (record.transcript_key), so an import never double-counts it
        "source_key": f"{path}:{inode}:{offset}:{zlib.crc32(line.rstrip(_EOL)) & 0xFFFFFFFF:08x}",
        "timestamp": ts,
        "_sidechain": bool(entry.get("isSidechain")),
        "_tool_use": tool_use,
        "_final_text": final_text,  # the end of a text-only line: fork_complete compares it
    }


class Scan:
    """The complete lines of a transcript from ``offset`` that contain
    ``needle``, as ``(line offset, bytes)``, read in blocks.

    After iterating: ``end`` is the offset after the last line handled (where
    the next call starts), ``inode`` the file's, ``size`` its size when
    opened, ``cut`` True when the call stopped early (time, bytes, rows), not
    at the end of the file, and ``skipped`` the number of lines over MAX_LINE.
    ``missing`` is True when there is no file; opening anything that is not a
    regular file raises OSError (``paths.open_regular``).
    """

    def __init__(self, path: str, offset: int, needle: bytes, *, slice_s: float | None = None,
                 max_bytes: int | None = None, max_line: int | None = None, max_rows: int | None = None) -> None:
        from tierwise.hot import deadline
        from tierwise.hot import paths

        self.path = path
        self.needle = needle
        self.max_line = MAX_LINE if max_line is None else max_line
        self.max_rows = MAX_ROWS if max_rows is None else max_rows
        max_bytes = MAX_SCAN if max_bytes is None else max_bytes
        self.rows = 0  # the caller counts what it kept
        self.skipped = 0
        self.cut = False
        self.missing = False
        self.inode = 0
        self.size = 0
        self.end = max(0, offset)
        self._until = time.monotonic() + deadline.wait_for(SLICE_S if slice_s is None else slice_s)
        self._fd = -1
        self._start = self.end
        try:
            self._fd = paths.open_regular(path)
        except FileNotFoundError:
            self.missing = True
            return
        st = os.fstat(self._fd)
        self.inode, self.size = st.st_ino, st.st_size
        if self.end > self.size:
            self.end = 0  # truncated or replaced
        self._start = self.end
        # at least one whole line past the offset, so every call gets somewhere
        self._limit = min(self.size, self.end + max(max_bytes, self.max_line + 1))

    def _late(self) -> bool:
        # the first GRACE_BYTES are always read: a small transcript is read whole whatever the
        # machine's load (deterministic), a large one stops at its slice
        return self.end - self._start >= GRACE_BYTES and time.monotonic() >= self._until

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        if self._fd < 0:
            return
        try:
            yield from self._lines()
        finally:
            os.close(self._fd)
            self._fd = -1

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        fd, needle, max_line = self._fd, self.needle, self.max_line
        pos = self.end  # file offset of the next block
        # an offset inside a line: a line too long to hold, whose rest is still to skip
        skipping = pos > 0 and os.pread(fd, 1, pos - 1) != b"\n"
        buf, buf_start = b"", pos
        while pos < self._limit:
            if self._late():
                self.cut = True
                return
            chunk = os.pread(fd, min(BLOCK, self._limit - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    self.end = pos  # consumed: the next call resumes inside the line and skips on
                    continue
                skipping = False
                chunk = chunk[nl + 1:]
                buf, buf_start = b"", pos - len(chunk)
                self.end = buf_start
            data = buf + chunk if buf else chunk
            start = buf_start
            done = data.rfind(b"\n") + 1  # the complete lines are data[:done]
            i = 0
            while done:
                j = data.find(needle, i, done)
                if j < 0:
                    break
                k = data.rfind(b"\n", i, j)
                ls = k + 1 if k >= 0 else i
                le = data.find(b"\n", j, done)
                if le - ls + 1 > max_line:
                    self.skipped += 1
                else:
                    if self._late() or self.rows >= self.max_rows:
                        self.cut = True
                        return
                    yield start + ls, data[ls:le + 1]
                i = le + 1
                self.end = start + i
            if done:
                self.end = start + done
            tail = data[done:]
            if len(tail) > max_line:
                self.skipped += 1
                skipping = True
                buf, buf_start = b"", pos
                self.end = pos
            else:
                buf, buf_start = tail, start + done
        if pos < self.size and pos >= self._limit:
            self.cut = True  # the byte cap, not the end of the file


def _dedup(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (message.id, requestId), in first-seen order: the line with
    the highest output count (the last of equals). A streamed response can be
    written as several lines whose output count grows; the last is the final
    one (ccusage keeps the first and undercounts: docs/ledger.md). Without a
    requestId the first line stays: the ledger cannot match a later line's row
    to it (its unique key needs both ids), so a later line would be a second row."""
    at: dict[tuple[Any, Any], int] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["message_id"]:
            key = (row["message_id"], row["request_id"])
            i = at.get(key)
            if i is not None:
                if row["request_id"] and row["output"] >= out[i]["output"]:
                    out[i] = row
                continue
            at[key] = len(out)
        out.append(row)
    return out


def agent_transcript_path(transcript_path: object, session_id: str, agent_id: str) -> str | None:
    main = allowed(transcript_path)
    if not main or "/" in agent_id or ".." in agent_id or "/" in session_id or ".." in session_id:
        return None
    return allowed(os.path.join(os.path.dirname(main), session_id, "subagents", f"agent-{agent_id}.jsonl"))


def read_agent_rows(path: str) -> tuple[list[dict[str, Any]], int]:
    """Every request in a subagent transcript, and the bytes read (whole lines).
    Bounded like every read here; a transcript cut short is said (a warning)."""
    rows, scan = agent_usage_scan(path)
    note_cut_short(scan)
    return rows, scan.end if scan is not None else 0


def agent_usage_scan(path: str, *, slice_s: float | None = None) -> tuple[list[dict[str, Any]], Scan | None]:
    """The subagent's usage rows and the scan that read them (None when the
    file could not be opened: missing, or not a regular file)."""
    try:
        scan = Scan(path, 0, b'"usage"', slice_s=slice_s)
        rows = []
        for offset, line in scan:
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict):
                row = _usage_row(entry, path, scan.inode, offset, line)
                if row:
                    rows.append(row)
                    scan.rows += 1
    except OSError:
        return [], None
    return _dedup(rows), scan


def cut_short_note(scan: Scan | None) -> str | None:
    """The warning for a transcript a hook did not read to its end, else None."""
    if scan is None or not (scan.cut or scan.skipped):
        return None
    parts = []
    if scan.cut:
        parts.append(f"read {scan.end} of {scan.size} bytes within the hook's time and size bounds")
    if scan.skipped:
        parts.append(f"skipped {scan.skipped} line(s) longer than {MAX_LINE // (1024 * 1024)} MiB")
    return (f"transcript {scan.path}: " + "; ".join(parts)
            + "; fix: run `tierwise import claude` to record the rest")


def agent_usage_rows(path: str) -> list[dict[str, Any]]:
    return read_agent_rows(path)[0]


TEXT_TAIL = 200


def result_tail(result: object) -> str | None:
    """What ``fork_complete`` needs of a forked Skill call's ``tool_response.result``."""
    return result.strip()[-TEXT_TAIL:] if isinstance(result, str) and result.strip() else None


def fork_complete(rows: list[dict[str, Any]], expect: str | None) -> bool:
    """Whether a forked skill's subagent transcript holds its final response.
    Claude Code may write those lines after PostToolUse(Skill), even after Stop,
    and the file's size alone cannot tell a transcript that is complete from one
    that is not yet. The Skill tool's ``result`` is the fork's final text
    (``expect``: its end, ``result_tail``): complete once a text-only line ends
    it. Without one, complete once the last response asks for no tool."""
    if not rows:
        return False
    if expect:
        return any(r.get("_final_text") and expect.endswith(r["_final_text"]) for r in rows)
    return not rows[-1].get("_tool_use")


def holds_request(rows: list[dict[str, Any]], usage: dict[str, Any]) -> bool:
    """Whether a subagent's transcript rows already hold the request ``usage``
    reports (PostToolUse(Agent)'s ``tool_response.usage``: the subagent's last
    request). Claude Code may not have written the transcript's last lines yet
    when PostToolUse fires; then the hook records ``usage`` as a provisional row
    that the transcript's row replaces later. Same input, cache-read and
    cache-write counts: the rule ``ledger.record.settle`` applies."""

    def n(row: dict[str, Any], key: str) -> int:
        value = row.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    want = (n(usage, "input"), n(usage, "cache_read"), n(usage, "cache_write_5m") + n(usage, "cache_write_1h"))
    return any((n(r, "input"), n(r, "cache_read"), n(r, "cache_write_5m") + n(r, "cache_write_1h")) == want
               for r in rows)


def complete_last_request(rows: list[dict[str, Any]], usage: dict[str, Any]) -> bool:
    """Give the transcript's row of the request ``usage`` reports (PostToolUse(Agent)'s
    ``tool_response.usage``: the subagent's last request, with the API's final
    counts) that request's final output count when the row holds less.

    Claude Code writes a subagent's message to its transcript when the content
    block ends, with the output count it holds at that moment: message_start's
    early count (the API sends 1) when the write happens before message_delta
    brings the final one, and the line is not written again. Input and cache
    counts are final from the start. Returns whether a row was completed."""

    def n(src: dict[str, Any], key: str) -> int:
        value = src.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    want = (n(usage, "input"), n(usage, "cache_read"), n(usage, "cache_write_5m") + n(usage, "cache_write_1h"))
    final = n(usage, "output")
    for row in reversed(rows):
        if (n(row, "input"), n(row, "cache_read"), n(row, "cache_write_5m") + n(row, "cache_write_1h")) == want:
            if n(row, "output") < final:
                row["output"] = final
                return True
            return False
    return False


def note_cut_short(scan: Scan | None) -> None:
    """Warn (hook stderr, error log) about a transcript not read to its end."""
    note = cut_short_note(scan)
    if note:
        from tierwise.hot.hooks.runtime import warn

        warn(note)


def main_usage_rows(path: str, offset: int, active: dict[str, Any] | None) -> tuple[list[dict[str, Any]], int, dict[str, Any] | None]:
    """New main-conversation usage rows since ``offset``, each with ``_skill`` and
    ``_tool_use_id`` (the Skill call it is attributed to); the new offset; the
    attribution state at the end (carried to the next read).

    The rule is the ledger importer's (``ledger/importers.py``), so a hook
    record and a later ``tierwise import`` agree: after a ``Skill`` call whose
    result is not an error, every request belongs to that skill until the
    next genuine user prompt; the request that made the Skill call belongs to
    what came before. ``attributionSkill`` stamps are not used (they
    over-attribute).
    """
    try:
        scan = Scan(path, offset, b'"message"')
    except OSError:
        return [], offset, active  # not a regular file: nothing read, nothing moved
    if scan.missing:
        return [], offset, active
    inode = scan.inode
    if scan.end != offset:
        active = None  # truncated or replaced: read from the start, with no carried attribution
    state: dict[str, Any] = dict(active or {})
    pending: dict[str, str] = dict(state.get("pending") or {})
    rows = []
    for line_offset, line in scan:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict) or entry.get("isSidechain"):
            continue
        message = entry.get("message")
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if entry.get("type") == "user":
            if isinstance(content, str):
                if not entry.get("isMeta"):
                    state, pending = {}, {}
                continue
            if not isinstance(content, list):
                continue
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_result":
                    tid = block.get("tool_use_id")
                    skill = pending.pop(tid, None) if isinstance(tid, str) else None
                    # a skill that ran forked spent its tokens in its own subagent transcript:
                    # the requests after it are the conversation's, not the skill's
                    if skill and not block.get("is_error") and not is_forked_result(entry):
                        state = {"skill": skill, "tool_use_id": tid}
                elif block.get("type") == "text" and not entry.get("isMeta"):
                    state, pending = {}, {}
            continue
        if entry.get("type") != "assistant":
            continue
        row = _usage_row(entry, path, inode, line_offset, line)
        if row:
            row["_skill"] = state.get("skill")
            row["_tool_use_id"] = state.get("tool_use_id")
            rows.append(row)
            scan.rows += 1
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == "Skill":
                    inp = block.get("input")
                    name = inp.get("skill") if isinstance(inp, dict) else None
                    if isinstance(name, str) and isinstance(block.get("id"), str):
                        pending[block["id"]] = name
    state["pending"] = pending
    note = cut_short_note(scan)
    if note and scan.skipped:
        from tierwise.hot.hooks.runtime import warn

        warn(note)
    return _dedup(rows), scan.end, state


def _qwen_lines(scan: Scan) -> Iterator[tuple[int, bytes]]:
    for offset, line in scan:
        if b"subagent_name" in line:
            scan.rows += 1
            yield offset, line


def is_forked_result(entry: dict[str, Any]) -> bool:
    """A Skill tool result of a skill that ran forked (``context: fork``)."""
    result = entry.get("toolUseResult")
    return isinstance(result, dict) and result.get("status") == "forked"


def qwen_main_rows(path: str, offset: int, active: dict[str, Any] | None) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    """The main conversation's new requests in a Qwen Code session file since
    ``offset`` (its ``qwen-code.api_response`` telemetry lines; a subagent's
    are recorded with its ``agent`` call), each with ``_skill`` / ``_tool_use_id``:
    after a ``skill`` call whose result is not an error, every request belongs
    to that skill until the next user prompt or the next skill — exactly while
    Qwen Code sends the requests to a skill's ``model:``. The rule and the row
    keys are the ledger importer's, so ``tierwise import qwen`` adds none again.
    Returns the rows, the new offset, the attribution state to carry (with
    ``calls``: the skill calls read now, ``[call id, skill]`` in order; Qwen
    Code's hooks get another id for the same call, so the caller pairs them
    with the calls its PreToolUse saw, in order). Read like the Claude Code
    transcript (:class:`Scan`): bounded, regular files only, a missing file has no rows."""
    try:
        scan = Scan(path, offset, b'"type"')
    except OSError:
        return [], offset, dict(active or {})  # not a regular file: nothing read, nothing moved
    if scan.missing:
        return [], offset, dict(active or {})
    inode = scan.inode
    if scan.end != offset:
        active = None  # truncated or replaced: read from the start, with no carried attribution
    state: dict[str, Any] = dict(active or {})
    pending: dict[str, str] = dict(state.get("pending") or {})
    calls: list[list[str]] = []  # every skill call read now, in order: [call id, skill name]
    rows = []
    for line_offset, line in scan:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        raw_message = entry.get("message")
        message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
        if kind == "user":
            state, pending = {}, {}
            continue
        if kind == "assistant":
            for part in message.get("parts") or []:
                call = part.get("functionCall") if isinstance(part, dict) else None
                if isinstance(call, dict) and call.get("name") == "skill":
                    args = call.get("args")
                    if isinstance(args, dict) and isinstance(args.get("skill"), str):
                        pending[str(call.get("id"))] = args["skill"]
                        calls.append([str(call.get("id")), args["skill"]])
            continue
        if kind == "tool_result":
            for part in message.get("parts") or []:
                response = part.get("functionResponse") if isinstance(part, dict) else None
                if not isinstance(response, dict):
                    continue
                tid = str(response.get("id"))
                skill = pending.pop(tid, None)
                body = response.get("response")
                if skill and not (isinstance(body, dict) and "error" in body):
                    state = {"skill": skill, "tool_use_id": tid}
            continue
        if kind != "system" or b"qwen-code.api_response" not in line:
            continue
        payload = entry.get("systemPayload")
        event = payload.get("uiEvent") if isinstance(payload, dict) else None
        if not isinstance(event, dict) or event.get("event.name") != "qwen-code.api_response" or event.get(
                "subagent_name"):
            continue

        def n(key: str) -> int:
            v = event.get(key)
            return int(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0

        prompt, cached = n("input_token_count"), n("cached_content_token_count")
        if not isinstance(event.get("input_token_count"), int) or not isinstance(event.get("output_token_count"), int):
            continue
        response_id = event.get("response_id") if isinstance(event.get("response_id"), str) else None
        session = entry.get("sessionId") if isinstance(entry.get("sessionId"), str) else \
            os.path.basename(path)[:-len(".jsonl")]
        stamp = event.get("event.timestamp") or entry.get("timestamp")
        rows.append({
            "model": event.get("model") if isinstance(event.get("model"), str) else None,
            "input": max(0, prompt - cached),
            "output": n("output_token_count") + n("thoughts_token_count"),
            "cache_read": cached,
            "cache_write_5m": 0,
            "cache_write_1h": 0,
            "message_id": response_id,
            "request_id": session if response_id else None,
            "source_key": f"{path}:{inode}:{line_offset}:{zlib.crc32(line.rstrip(_EOL)) & 0xFFFFFFFF:08x}",
            "timestamp": stamp if isinstance(stamp, str) else None,
            "_skill": state.get("skill"),
            "_tool_use_id": state.get("tool_use_id"),
        })
        scan.rows += 1
    state["pending"] = pending
    state["calls"] = calls
    if scan.skipped:
        note_cut_short(scan)
    return rows, scan.end, state


def qwen_subagent_groups(path: str, subagent_name: str | None = None) -> dict[str, dict[str, Any]]:
    """The requests of every Qwen Code subagent in a session file, from its
    ``qwen-code.api_response`` telemetry, with the keys the ledger importer gives
    the same lines (so ``tierwise import qwen`` never counts them twice).

    Telemetry lines carry ``subagent_name`` and ``prompt_id``
    ``<session>#<agent>-<id>#<n>``, not the tool call: one subagent is the
    group of lines with the same ``prompt_id`` prefix (its ``agent_id``, as the
    importer names it). Returns ``{agent_id: {"name", "rows", "prompt",
    "output"}}`` (the subagent's name; prompt and output token sums, as
    ``executionSummary`` adds them up).
    """
    groups: dict[str, dict[str, Any]] = {}
    try:
        scan = Scan(path, 0, b"qwen-code.api_response")
        inode = scan.inode
        lines = list(_qwen_lines(scan))
    except OSError:
        return {}
    note_cut_short(scan)
    for offset, line in lines:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        payload = entry.get("systemPayload") if isinstance(entry, dict) else None
        event = payload.get("uiEvent") if isinstance(payload, dict) else None
        if not isinstance(event, dict) or event.get("event.name") != "qwen-code.api_response":
            continue
        name = event.get("subagent_name")
        if not name or (subagent_name and name != subagent_name):
            continue
        prompt_id = str(event.get("prompt_id") or name)
        agent = prompt_id.rsplit("#", 1)[0] if prompt_id.count("#") >= 2 else prompt_id

        def n(key: str) -> int:
            v = event.get(key)
            return int(v) if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0

        prompt, cached = n("input_token_count"), n("cached_content_token_count")
        response_id = event.get("response_id") if isinstance(event.get("response_id"), str) else None
        session = entry.get("sessionId") if isinstance(entry.get("sessionId"), str) else None
        stamp = event.get("event.timestamp") or entry.get("timestamp")
        group = groups.setdefault(agent, {"name": name, "rows": [], "prompt": 0, "output": 0})
        group["rows"].append({
            "model": event.get("model") if isinstance(event.get("model"), str) else None,
            "input": max(0, prompt - cached),
            "output": n("output_token_count") + n("thoughts_token_count"),
            "cache_read": cached,
            "cache_write_5m": 0,
            "cache_write_1h": 0,
            "message_id": response_id,
            "request_id": session if response_id else None,
            "source_key": f"{path}:{inode}:{offset}:{zlib.crc32(line.rstrip(_EOL)) & 0xFFFFFFFF:08x}",
            "timestamp": stamp if isinstance(stamp, str) else None,
            "agent_id": agent,
        })
        group["prompt"] += prompt
        group["output"] += n("output_token_count")
    return groups


def match_qwen_group(
    groups: dict[str, dict[str, Any]], summary: dict[str, Any], subagent_name: str | None = None
) -> list[dict[str, Any]]:
    """The rows of the subagent (named ``subagent_name``, when given) whose prompt
    and output tokens add up to a PostToolUse ``executionSummary``; [] when none
    does (yet)."""
    want_in, want_out = summary.get("inputTokens"), summary.get("outputTokens")
    if not isinstance(want_in, int) or not isinstance(want_out, int):
        return []
    matches = [agent for agent, g in groups.items() if g["prompt"] == want_in and g["output"] == want_out
               and (not subagent_name or g["name"] == subagent_name)]
    return list(groups[matches[-1]]["rows"]) if matches else []


def qwen_subagent_rows(path: str, summary: dict[str, Any], subagent_name: str | None) -> list[dict[str, Any]]:
    """The requests of the Qwen Code subagent a PostToolUse ``executionSummary``
    reports, from the session file's telemetry; [] when the file does not hold
    them all (yet): the caller records the execution summary as a provisional
    row instead."""
    if not isinstance(summary.get("inputTokens"), int) or not isinstance(summary.get("outputTokens"), int):
        return []
    return match_qwen_group(qwen_subagent_groups(path, subagent_name), summary)
