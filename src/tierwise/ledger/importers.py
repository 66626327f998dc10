"""Backfill the ledger from the clients' transcripts (cold): the shared core.

Each client's reader is ``tierwise/clients/<name>/importer.py`` (an
:class:`_Importer` subclass plus its options); this module holds the file
walking, the incremental state, batching, pricing and settling they share.

Incremental: ``import_state`` keeps, per file (by its real path), the inode,
size and the byte offset read up to (only whole lines are consumed). A re-run reads only new
bytes; a file whose inode changed or that shrank is read again from the start
(rows already in the ledger are skipped by their keys).

Files are keyed by their real path (symlinks resolved): the hooks key the
lines they record the same way (``hooks/transcript.py``), so a config dir
reached through a symlink (``~/.claude`` -> elsewhere) never counts a line
twice, and a file reached through two roots is read once.

Roots: ``CLAUDE_CONFIG_DIR`` may list several directories, comma-separated;
every one that holds ``projects/`` is imported (as ccusage does).

Counting rules (Claude Code), the same as ccusage 17.2.1 so totals agree:

- every JSON line whose ``message.usage`` has numeric ``input_tokens`` and
  ``output_tokens`` and that has a ``timestamp`` is one request;
- a request whose ``message.id`` and ``requestId`` were both seen before is
  skipped (first one wins); without both ids nothing is deduplicated;
- ``cache_creation_input_tokens`` is split into 5-minute and 1-hour writes by
  ``usage.cache_creation.ephemeral_1h_input_tokens`` (the rest is 5-minute).

Skill attribution (our rule, documented in docs/ledger.md):

- inline: after a ``Skill`` tool call whose result is not an error, every
  request of the same thread belongs to that skill until the next genuine user
  prompt (not a tool result, not the injected skill body); the request that
  *made* the Skill call still belongs to what came before. ``run_id`` is
  ``<session>:<Skill tool_use id>``.
- forked skills (``context: fork``, e.g. tierwise's copies): the requests of
  the subagent file the ``Skill`` call's result names (``toolUseResult.agentId``,
  ``status: forked``) belong to that skill, ``run_id`` ``<session>:<Skill
  tool_use id>``; the conversation's requests after it stay the conversation's.
- subagents: a subagent file's requests belong to the skill of the ``Agent``
  tool call that started it (linked by ``toolUseResult.agentId``): the routing
  decision recorded for that call (``decisions.run_id``), else a
  ``skills/<name>/SKILL.md`` path in the prompt; ``run_id`` is
  ``<session>:<Agent tool_use id>``.
- Claude Code 2.1.x ``attributionSkill`` stamps are not used: they persist
  until the next prompt and are inherited by subagents, so they over-attribute.
  Disagreements are counted in the summary (``stamp_disagreements``).

Qwen Code: requests come from ``ui_telemetry`` ``qwen-code.api_response``
events (they include subagent requests, which have no assistant line); files
without telemetry fall back to assistant lines' ``usageMetadata``. Input is
``prompt - cached``, cache read is ``cached``, output is
``candidates + thoughts``.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sqlite3
import zlib
from collections.abc import Callable
from operator import attrgetter
from stat import S_ISREG
from types import ModuleType
from typing import Any

from tierwise.clients import CLIENTS

from tierwise.hot.errors import InputError
from tierwise.hot.ledger import connection, db, pricing
from tierwise.hot.ledger.record import insert_usage, iso_to_ms_bulk as iso_to_ms, settle

SKILL_PATH = re.compile(r"skills/([A-Za-z0-9_.:-]+)/SKILL\.md")
BATCH_FILES = 256  # files per write transaction (fewer commits; a hook waits at most one batch)
BATCH_ROWS = 20_000  # rows kept in memory before they are written, whatever the file count
READ_BLOCK = 8 << 20  # a transcript is read this much at a time (memory stays bounded on a huge file)
# orjson costs ~25 ms to import (it loads dataclasses, uuid, ...) and saves ~6 ms per MB parsed:
# an incremental import of a few lines stays on json, a big one switches after this many bytes
FAST_JSON_AFTER = 4 << 20


class ImportSummary:
    def __init__(self, client: str, root: str, roots: list[str] | None = None) -> None:
        self.client = client
        self.root = root
        self.roots = roots or [root]
        self.files = 0
        self.files_read = 0
        self.bytes_read = 0
        self.lines = 0
        self.records_seen = 0
        self.records_added = 0
        self.duplicates_skipped = 0
        self.bad_lines = 0
        self.bad_examples: list[str] = []
        self.partial_lines = 0
        self.restarted_files = 0
        self.stamp_disagreements = 0
        self.unreadable_files: list[str] = []
        self.provisional_replaced = 0
        self.provisional_remaining = 0
        # Codex CLI: reasoning tokens inside the imported output tokens (None: the client does not say)
        self.reasoning_output_tokens: int | None = None

    def bad(self, path: str, offset: int, why: str) -> None:
        self.bad_lines += 1
        if len(self.bad_examples) < 10:
            self.bad_examples.append(f"{path} @ byte {offset}: {why}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client, "root": self.root, "roots": self.roots, "files": self.files, "files_read": self.files_read,
            "bytes_read": self.bytes_read, "lines": self.lines, "records_seen": self.records_seen,
            "records_added": self.records_added, "duplicates_skipped": self.duplicates_skipped,
            "bad_lines": self.bad_lines, "bad_examples": self.bad_examples, "partial_lines": self.partial_lines,
            "restarted_files": self.restarted_files, "stamp_disagreements": self.stamp_disagreements,
            "unreadable_files": self.unreadable_files, "provisional_replaced": self.provisional_replaced,
            "provisional_remaining": self.provisional_remaining,
            **({"reasoning_output_tokens": self.reasoning_output_tokens}
               if self.reasoning_output_tokens is not None else {}),
        }


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _walk_jsonl(root: str, pattern: Callable[[str], bool]) -> list[tuple[str, str]]:
    """``(path as found, real path)`` of every ``*.jsonl`` under ``root``, in os.walk's
    top-down order (each directory's files sorted, then its subdirectories sorted).

    Symlinked directories are not entered (as os.walk), so a directory's real path
    is the root's real path plus its relative part: only a symlinked file needs
    ``realpath`` of its own (a thousand files cost one ``realpath``, not one each)."""
    out: list[tuple[str, str]] = []
    real_root = os.path.realpath(root)
    sep = os.sep
    by_name = attrgetter("name")

    def walk(prefix: str, real_prefix: str) -> None:  # both end with the separator (os.path.join's rule)
        try:
            with os.scandir(prefix) as it:
                entries = list(it)
        except OSError:
            return
        entries.sort(key=by_name)
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():
                    subdirs.append(entry.name)
                continue
            name = entry.name
            if name.endswith(".jsonl"):
                full = prefix + name
                if pattern(full):
                    out.append((full, os.path.realpath(full) if entry.is_symlink() else real_prefix + name))
        for name in subdirs:
            walk(prefix + name + sep, real_prefix + name + sep)

    walk(root if root.endswith(sep) else root + sep, real_root if real_root.endswith(sep) else real_root + sep)
    return out


def fast_loads() -> Callable[[bytes], Any]:
    """``json.loads`` with the same results, faster: orjson (3x on transcript lines) when it
    is installed, else the standard library. What orjson refuses and ``json`` accepts (NaN,
    integers beyond 64 bits, lone surrogates, a BOM) goes to ``json``, so a line is read as
    the standard library reads it, or is bad exactly when it says so."""
    try:
        import orjson
    except ImportError:
        return json.loads
    strict = json.loads
    orjson_loads = orjson.loads
    refused = orjson.JSONDecodeError

    def loads(data: bytes) -> Any:
        try:
            return orjson_loads(data)
        except refused:
            return strict(data)

    return loads


def _complete_json(tail: bytes) -> bool:
    if not tail.strip():
        return False
    try:
        json.loads(tail)
    except ValueError:
        return False
    return True


class _Importer:
    client = "claude_code"
    # prepare() needs every new byte of a file at once (Qwen Code: does the file hold telemetry?);
    # otherwise a file is read in blocks and prepare() sees the first one
    whole_file = False

    def __init__(self, conn: sqlite3.Connection, config: dict[str, Any] | None, summary: ImportSummary) -> None:
        self.conn = conn
        self.config = config
        self.summary = summary
        self.table = pricing.load_table()
        self._tier_memo: dict[str | None, str | None] = {}
        self._limits_memo: dict[str | None, tuple[int, ...]] = {}
        self._price_memo: dict[tuple[Any, ...], tuple[dict[str, Any] | None, float, str]] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.loads: Callable[[bytes], Any] = json.loads  # fast_loads() once an import turns out big
        self.fast_json = False
        self._states: dict[str, tuple[Any, ...]] | None = None
        # (message id, request id) of the rows of the current file -> the highest output count seen:
        # a streamed response's repeats that say no more are skipped here, not priced and sent to
        # SQLite to be ignored there
        self.seen_ids: dict[tuple[str, str], int] = {}
        self.links: list[tuple[Any, ...]] = []
        self.states: list[tuple[Any, ...]] = []
        self.stale_states: list[tuple[str]] = []

    def tier(self, model: str | None) -> str | None:
        if model not in self._tier_memo:
            self._tier_memo[model] = pricing.tier_for_model(model, self.config, self.client)
        return self._tier_memo[model]

    def price(self, model: str | None, tier: str | None, tokens: dict[str, int], day: str) -> tuple[float | None, str]:
        # Rates depend on the tokens only through long-context thresholds: memoize per side of them.
        whole = tokens["input"] + tokens["cache_write_5m"] + tokens["cache_write_1h"] + tokens["cache_read"]
        limits = self._limits_memo.get(model)
        if limits is None:
            limits = self._limits_memo[model] = tuple(sorted(pricing.thresholds(self.table, model)))
        key = (model, tier, day, sum(1 for t in limits if whole > t))
        memo = self._price_memo.get(key)
        if memo is None:
            memo = self._price_memo[key] = pricing.resolve_rates(
                model, tier, tokens, config=self.config, table=self.table, platform=self.client, day=day)
        rates, factor, src = memo
        if rates is None:
            return None, src
        cost = pricing.cost_from_rates(rates, tokens)
        return (None, "unknown") if cost is None else (cost * factor, src)

    def add_row(self, *, model: str | None, tokens: dict[str, int], session_id: str | None, project: str | None,
                skill: str | None, agent_id: str | None, run_id: str | None, stamp: str, message_id: Any,
                request_id: Any, key: str, ts: int | None = None) -> None:
        if ts is None:
            ts = iso_to_ms(stamp)
        tier = self.tier(model)
        cost, src = self.price(model, tier, tokens, stamp[:10])
        self.summary.records_seen += 1
        self.rows.append((
            self.client, model, tier, tokens["input"], tokens["output"], tokens["cache_write_5m"],
            tokens["cache_write_1h"], tokens["cache_read"], session_id, project, skill, agent_id, run_id, ts,
            stamp, "import", str(message_id) if message_id else None, str(request_id) if request_id else None,
            key, cost, src, "import", None,
        ))

    # -- per file ------------------------------------------------------------

    def import_file(self, found: str, real: str | None = None) -> None:
        """Import one file; ``found`` is where the walk found it, keys use its real path."""
        summary = self.summary
        summary.files += 1
        self.seen_ids.clear()
        path = real or os.path.realpath(found)
        try:
            st = os.stat(path)
        except OSError as exc:
            summary.unreadable_files.append(f"{found}: {exc.strerror or exc}")
            return
        if not S_ISREG(st.st_mode):  # a FIFO would block the import for ever, a device never end
            summary.unreadable_files.append(f"{found}: not a regular file")
            return
        row = self.state_of(path)
        legacy = False
        if row is None and path != found:
            # state written before files were keyed by their real path: carry on from it
            # (the rows it imported keep their old keys; re-reading them would count them again)
            row = self.state_of(found)
            if row is not None:
                legacy = True
                self.stale_states.append((found,))
        offset = 0
        context: str | None = None
        if row is not None:
            inode, _size, prev_offset, context = row
            if inode == st.st_ino and st.st_size >= prev_offset:
                offset = prev_offset
            else:
                summary.restarted_files += 1
                context = None
        if st.st_size == offset and not legacy:
            return  # nothing new (the common case of a re-run: its context is not even parsed)
        ctx: dict[str, Any] = {}
        if context:
            try:
                ctx = json.loads(context)
            except ValueError:
                ctx = {}
        if st.st_size == offset:  # legacy: nothing new, but the state moves to the real path
            self.states.append((path, self.client, st.st_ino, st.st_size, offset, st.st_mtime, json.dumps(ctx)))
            return
        try:
            with open(path, "rb") as fh:
                if offset and ctx.get("head") is not None:
                    # same inode and not shorter, but a rotated file can reuse the inode: compare its head
                    head = fh.read(int(ctx.get("head_len", 0)))
                    if zlib.crc32(head) != ctx["head"]:
                        summary.restarted_files += 1
                        offset, ctx = 0, {}
                fh.seek(offset)
                consumed = self._read_lines(fh, found, path, st.st_ino, offset, ctx)
        except OSError as exc:
            summary.unreadable_files.append(f"{found}: {exc.strerror or exc}")
            return
        self.states.append((path, self.client, st.st_ino, st.st_size, offset + consumed, st.st_mtime, json.dumps(ctx)))
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def _read_lines(self, fh: Any, found: str, path: str, inode: int, offset: int, ctx: dict[str, Any]) -> int:
        """Hand every whole line from ``offset`` on to :meth:`handle_line`, reading
        ``READ_BLOCK`` bytes at a time (``whole_file`` importers: everything at once).
        Returns how many bytes were consumed: up to the last newline, or to the end
        when the unterminated last line is complete JSON (else it waits for the next run)."""
        summary = self.summary
        summary.files_read += 1
        whole = self.whole_file
        handle = self.handle_line
        pending = b""  # the bytes after the last newline read so far
        base = offset  # the file offset of pending[0]
        if offset == 0:  # a CRC of the head tells a rotated file that reused the inode (import_file)
            pending = fh.read(256)
            summary.bytes_read += len(pending)
            ctx["head_len"] = len(pending)
            ctx["head"] = zlib.crc32(pending)
        first = True
        while True:
            block = fh.read(-1 if whole else READ_BLOCK)
            summary.bytes_read += len(block)
            if summary.bytes_read > FAST_JSON_AFTER and not self.fast_json:
                self.loads, self.fast_json = fast_loads(), True
            done = whole or not block
            data = pending + block if pending else block
            del block
            end = data.rfind(b"\n") + 1
            if first:
                first = False
                if whole:
                    self.prepare(found, ctx, data if _complete_json(data[end:]) else data[:end])
                else:
                    self.prepare(found, ctx, data)
            if end:
                pos = base
                lines = data.split(b"\n")
                pending = lines.pop()  # after the last newline (no copy of the block's whole lines)
                del data
                for line in lines:
                    if line and not line.isspace():
                        summary.lines += 1
                        try:
                            handle(path, inode, pos, line, ctx)
                        except (ValueError, OverflowError) as exc:  # e.g. NaN or Infinity as a token count
                            summary.bad(path, pos, f"unreadable value ({exc})")
                    pos += len(line) + 1
                base = pos
                del lines
            else:
                pending = data
            if done:
                break
        if pending.strip():
            # An unterminated last line: take it if it is complete JSON, else leave it for the next run.
            if _complete_json(pending):
                summary.lines += 1
                try:
                    handle(path, inode, base, pending, ctx)
                except (ValueError, OverflowError) as exc:
                    summary.bad(path, base, f"unreadable value ({exc})")
                base += len(pending)
            else:
                summary.partial_lines += 1
        return base - offset

    def state_of(self, path: str) -> tuple[Any, ...] | None:
        """This file's ``import_state`` row ``(inode, size, offset, context)``: all are read in one query."""
        if self._states is None:
            self._states = {
                r[0]: r[1:] for r in self.conn.execute("SELECT path, inode, size, offset, context FROM import_state")
            }
        return self._states.get(path)

    def prepare(self, path: str, ctx: dict[str, Any], data: bytes) -> None:
        pass

    def handle_line(self, path: str, inode: int, offset: int, line: bytes, ctx: dict[str, Any]) -> None:
        raise NotImplementedError

    def flush(self) -> None:
        rows, links, states, stale = self.rows, self.links, self.states, self.stale_states
        self.rows, self.links, self.states, self.stale_states = [], [], [], []
        if not rows and not states and not links and not stale:
            return

        def tx(c: sqlite3.Connection) -> int:
            added = insert_usage(c, rows)
            if links:
                c.executemany(
                    "INSERT INTO agent_links (agent_id, session_id, tool_use_id, subagent_type, skill, prompt) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT(agent_id) DO UPDATE SET session_id = excluded.session_id, "
                    "tool_use_id = excluded.tool_use_id, subagent_type = excluded.subagent_type, "
                    "skill = COALESCE(excluded.skill, agent_links.skill), prompt = excluded.prompt",
                    links,
                )
            c.executemany(
                "INSERT OR REPLACE INTO import_state (path, client, inode, size, offset, mtime, context) "
                "VALUES (?,?,?,?,?,?,?)",
                states,
            )
            if stale:
                c.executemany("DELETE FROM import_state WHERE path = ?", stale)
            return added

        added = db.write(self.conn, tx)
        self.summary.records_added += added
        self.summary.duplicates_skipped += len(rows) - added

    def _json_object(self, path: str, offset: int, line: bytes) -> dict[str, Any] | None:
        """The line's JSON object, or None after counting it as a bad line."""
        try:
            obj = self.loads(line)
        except ValueError as exc:
            self.summary.bad(path, offset, f"not JSON ({getattr(exc, 'msg', exc)})")
            return None
        if not isinstance(obj, dict):
            self.summary.bad(path, offset, "not a JSON object")
            return None
        return obj


def _settle(conn: sqlite3.Connection, summary: ImportSummary, config: dict[str, Any] | None) -> None:
    """Replace the provisional rows hooks recorded (a client's payload, before its
    transcript held the request) whose transcript rows are in the ledger now.
    One query per provisional row, never per imported line."""

    def tx(c: sqlite3.Connection) -> tuple[int, int]:
        replaced = settle(c, None, config)
        left = c.execute("SELECT COUNT(*) FROM usage WHERE provisional IS NOT NULL AND client = ?",
                         (summary.client,)).fetchone()[0]
        return replaced, int(left)

    summary.provisional_replaced, summary.provisional_remaining = db.write(conn, tx)


def importer_for(client: str) -> ModuleType:
    """The transcript importer of a registered client (``tierwise/clients/<name>/importer.py``).

    It provides ``PLATFORM``, ``IMPORTER`` (an :class:`_Importer`), ``HELP``,
    ``add_arguments(parser)`` / ``roots(args)`` (the ``tierwise import <client>``
    options), ``ROOT_FLAG`` / ``ROOT_LABEL`` (for the error when a directory holds no
    transcripts), ``is_transcript(path)`` and ``after_import(conn)``."""
    if client not in CLIENTS:
        raise InputError(f"unknown client {client!r}", fix=f"use one of {', '.join(CLIENTS)}")
    return importlib.import_module(f"tierwise.clients.{client}.importer")


def list_files(client: str, root: str) -> list[tuple[str, str]]:
    """``(path as found, real path)`` of the client's transcripts under ``root``."""
    parts = importer_for(client)
    folder = str(getattr(parts, "TRANSCRIPTS_DIR", "projects"))  # Codex CLI: sessions/
    projects = os.path.join(os.path.abspath(root), folder)
    if not os.path.isdir(projects):
        raise InputError(
            f"no transcripts directory at {projects}",
            file=projects,
            fix=f"pass {parts.ROOT_FLAG} DIR pointing at the {parts.ROOT_LABEL} directory that holds {folder}/",
        )
    return _walk_jsonl(projects, parts.is_transcript)


def run_import(
    client: str,
    root: str | list[str],
    *,
    conn: sqlite3.Connection | None = None,
    config: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import new transcript bytes for ``client`` ("claude" | "qwen") under ``root``
    (one directory or several; a file reached through two of them is read once)."""
    roots = [root] if isinstance(root, str) else list(root)
    files: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in roots:
        for path, real in list_files(client, item):
            if real not in seen:
                seen.add(real)
                files.append((path, real))
    own = conn is None
    conn = conn or connection.connect()
    parts = importer_for(client)
    summary = ImportSummary(parts.PLATFORM, roots[0], roots)
    try:
        from tierwise import prices

        prices.ensure_table()  # models not in the table yet are priced after the import (reprice_pending)
        importer: _Importer = parts.IMPORTER(conn, config, summary)
        for n, (path, real) in enumerate(files, 1):
            importer.import_file(path, real)
            if n % BATCH_FILES == 0:
                importer.flush()
            if progress is not None:
                progress(n, len(files))
        importer.flush()
        parts.after_import(conn)
        _settle(conn, summary, config)
        prices.reprice_pending(conn, config)
    finally:
        if own:
            conn.close()
    return summary
