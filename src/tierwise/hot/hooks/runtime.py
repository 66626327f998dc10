"""What one hook invocation knows: the payload, the client adapter, the project,
the session, and lazy handles on the compiled cache, the ledger and the budget.

Every call into the routing core and the ledger goes through here, so the
handlers stay about *what* happens on each event.

Hot module: standard library and tierwise's hot modules only.
"""

from __future__ import annotations

from tierwise.hot import hotjson as json
import os
import time

from tierwise.hot import paths
from tierwise.hot.hooks import state

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from typing import Any, TypeGuard

    from tierwise.hot.hooks.adapter import Adapter

AUDIT_LOG = "audit.log"
BUDGET_TTL_S = 60.0
MAX_WARNINGS = 5
# the resolved config keys ledger.budget reads
BUDGET_CONFIG_KEYS = ("budgets", "team_budgets", "budget_windows", "priority_reserve", "zones", "session", "tiers")

# Warnings of this process (a fault it worked around, a broken file it skipped):
# `entry.main` writes each as one stderr line and to the error log.
WARNINGS: list[str] = []
# What could not be written to an unwritable state dir: said in one line.
_STATE_DIR_LOSSES: list[str] = []
_STATE_DIR_REASON: list[str] = []
# The ledger's trouble (what is wrong, the fix) and what this process did instead: one line.
_LEDGER_TROUBLE: list[str] = []
_LEDGER_CONSEQUENCES: list[str] = []


def warn(message: str) -> None:
    line = " ".join(message.split())
    if line not in WARNINGS and len(WARNINGS) < MAX_WARNINGS:
        WARNINGS.append(line)


def state_dir_trouble(exc: OSError, lost: str) -> None:
    """Note that ``lost`` could not be written to the state dir (one warning
    line per process, whatever was lost)."""
    if not _STATE_DIR_REASON:
        _STATE_DIR_REASON.append(exc.strerror or str(exc))
    if lost not in _STATE_DIR_LOSSES:
        _STATE_DIR_LOSSES.append(lost)


def ledger_trouble(what: str, consequence: str) -> None:
    """Note trouble with the ledger (``what``: the problem, its file and the fix)
    and what this hook did about it; one warning line per process."""
    if not _LEDGER_TROUBLE:
        _LEDGER_TROUBLE.append(what)
    if consequence not in _LEDGER_CONSEQUENCES:
        _LEDGER_CONSEQUENCES.append(consequence)


def take_warnings() -> list[str]:
    out = list(WARNINGS)
    if _LEDGER_TROUBLE:
        problem, _, fix = _LEDGER_TROUBLE[0].partition("\0")
        out.insert(0, problem + "; " + "; ".join(_LEDGER_CONSEQUENCES) + (f"; fix: {fix}" if fix else ""))
        _LEDGER_TROUBLE.clear()
        _LEDGER_CONSEQUENCES.clear()
    if _STATE_DIR_LOSSES:
        folder = paths.state_dir()
        out.insert(0, f"cannot write to the state directory {folder} ({_STATE_DIR_REASON[0]}): "
                      + "; ".join(_STATE_DIR_LOSSES)
                      + f"; fix: free disk space and make {folder} writable, or set ${paths.ENV_HOME} to a "
                      "writable directory")
    WARNINGS.clear()
    _STATE_DIR_LOSSES.clear()
    _STATE_DIR_REASON.clear()
    return out


def problem_line(problem: dict[str, Any]) -> str:
    """One config or skill problem from the cache: file, key, what, fix."""
    key = problem.get("key")
    fix = problem.get("fix")
    return (f"{problem.get('path')}" + (f": {key}" if key else "") + f": {problem.get('message')}"
            + (f"; fix: {fix}" if fix else ""))


def ledger_stamp() -> list[int]:
    """(mtime_ns, size) of the ledger and of its WAL when it holds frames.

    A write appends to the WAL; a checkpoint moves it into the file (changing
    the file's stamp). An empty WAL (a reader's connection) counts as none, so
    merely reading the ledger does not invalidate the cached budget state.
    """
    out: list[int] = []
    base = paths.ledger_path()
    for path in (base, base + "-wal"):
        try:
            st = os.stat(path)
        except OSError:
            out += [0, 0]
            continue
        out += [st.st_mtime_ns, st.st_size] if st.st_size else [0, 0]
    # a team sync rewrites the team totals without touching the ledger
    try:
        out.append(os.stat(os.path.join(paths.state_dir(), "team", "budget.json")).st_mtime_ns)
    except OSError:
        out.append(0)
    return out


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def audit_log_path() -> str:
    return os.path.join(paths.state_dir(), AUDIT_LOG)


class Context:
    def __init__(self, event: str, payload: dict[str, Any], adapter: Adapter) -> None:
        self.event = event
        self.payload = payload
        self.adapter = adapter
        self.now = time.time()
        self.timestamp = iso(self.now)
        sid = payload.get("session_id")
        self.session_id = sid if isinstance(sid, str) and 0 < len(sid) <= 200 else "unknown-session"
        cwd = payload.get("cwd")
        self.project = paths.project_dir(cwd if isinstance(cwd, str) and "\x00" not in cwd else None)
        tuid = payload.get("tool_use_id")
        self.tool_use_id = tuid if isinstance(tuid, str) and 0 < len(tuid) <= 200 else None
        tool = payload.get("tool_name")
        self.tool_name = tool if isinstance(tool, str) and len(tool) <= 200 else None
        self._cache: dict[str, Any] | None = None
        self._conn: sqlite3.Connection | None = None
        self._budget: dict[str, Any] | None = None
        self._budget_config_key: str | None = None
        self._session: dict[str, Any] | None = None

    # -- routing core ---------------------------------------------------------
    @property
    def cache(self) -> dict[str, Any]:
        if self._cache is None:
            from tierwise.hot import cache

            self._cache = cache.load(self.project, self.adapter.platform)
            # a value left out of the config changes every decision: said by every hook;
            # a broken skill is said when it is called (and at SessionStart and in the summary)
            for problem in self.problems(skills=self.event == "SessionStart"):
                warn(problem_line(problem))
        return self._cache

    def problems(self, *, skills: bool = True) -> list[dict[str, Any]]:
        found = self._cache.get("problems") if self._cache is not None else None
        return [p for p in found or [] if isinstance(p, dict) and (skills or p.get("scope") == "config")]

    @property
    def config(self) -> dict[str, Any]:
        return self.cache["config"]  # type: ignore[no-any-return]

    def skill(self, name: str | None) -> dict[str, Any] | None:
        """The skill index entry for ``name`` (None when unknown or unsafe)."""
        if not name:
            return None
        from tierwise.hot import cache
        from tierwise.hot.errors import TierwiseError

        compiled = self.cache  # a config error propagates: the user must hear of it
        try:
            entry = cache.find_skill(compiled, name)
        except TierwiseError:
            return None
        if not isinstance(entry, dict):
            bare = name.rsplit(":", 1)[-1]
            for problem in self.problems():
                where = str(problem.get("path") or "")
                if problem.get("scope") == "skill" and os.path.basename(os.path.dirname(where)) == bare:
                    warn(f"skill {name} is not routed: " + problem_line(problem))
            return None
        if entry.get("block_error"):
            warn(f"skill {name}: its routing block is ignored (the defaults apply): {entry['block_error']}")
        return entry

    def skill_names(self) -> list[str]:
        skills = self.cache.get("skills") or {}
        return sorted(skills) if isinstance(skills, dict) else []

    def tier_names(self) -> list[str]:
        return [t["name"] for t in self.config.get("tiers", []) if isinstance(t, dict) and "name" in t]

    @property
    def session(self) -> dict[str, Any]:
        if self._session is None:
            self._session = state.read(self.session_id)
        return self._session

    def overrides(self) -> dict[str, Any]:
        value = self.session.get("overrides")
        return value if isinstance(value, dict) else {}

    def request_text(self) -> str:
        value = self.session.get("prompt")
        return value if isinstance(value, str) else ""

    def decide(self, entry: dict[str, Any], request_text: str | None = None) -> dict[str, Any]:
        from tierwise.hot.routing.decide import decide

        return decide(
            entry["name"],
            entry.get("block"),
            entry.get("role") or "specialist",
            self.config,
            self.overrides(),
            self.budget(),
            self.request_text() if request_text is None else request_text,
            self.adapter.platform,
        )

    def render_route(self, decision: dict[str, Any]) -> str:
        from tierwise.hot.routing.audit import render_route

        return render_route(decision)

    # -- ledger ---------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        from tierwise.hot.ledger import connection, db

        if self._conn is None:
            self._conn = connection.connect()
        else:
            db.refresh_busy(self._conn)  # what is left of the hook's deadline, not what was left at connect
        return self._conn

    def _reading_conn(self) -> sqlite3.Connection:
        """The ledger for a read: in WAL mode a reader never waits, except on a
        ledger held exclusively; that wait is kept short (db.READ_WAIT_S), so the
        writes of this hook still have their time."""
        from tierwise.hot.ledger import connection, db

        wait_ms = int(db.busy_ms(db.READ_WAIT_S))
        if self._conn is None:
            self._conn = connection.connect(busy_timeout_ms=wait_ms)
        elif db.deadline_active():
            db.set_busy(self._conn, wait_ms)
        return self._conn

    def ledger_trouble(self, exc: BaseException, consequence: str) -> None:
        """Say, in one warning line, what is wrong with the ledger, the fix, and
        what this hook did instead."""
        from tierwise.hot.ledger.trouble import ledger_error

        err = ledger_error(exc)
        where = f" ({err.file})" if err.file else ""
        ledger_trouble(f"{err.message}{where}\0{err.fix or ''}", consequence)

    def budget(self) -> dict[str, Any]:
        """The budget state; reused from the session's cache while the ledger is unchanged.

        PreToolUse is the hottest hook: when no process has written to the ledger
        since the state was computed (the ledger file and its WAL have the same
        stamps), it is under BUDGET_TTL_S old and the budget config is the same,
        the cached state is the state (rolling windows can only move within the
        TTL). Else it is measured with one indexed query per window and cached
        for the next hook.
        """
        if self._budget is None:
            stamp = ledger_stamp()  # before measuring: a write after it can only make the entry stale
            cached = self.session.get("budget_cache")
            if self._cache_holds(cached, stamp) and isinstance(cached.get("state"), dict):
                self._budget = cached["state"]
            else:
                from tierwise.hot.ledger import budget

                if self._conn is None and not os.path.exists(paths.ledger_path()):
                    # nothing recorded yet: every window is empty, and there is no reason to create the
                    # ledger here (the stamp of no ledger is cached: the first write makes it stale)
                    measured = budget.measure(None, self.config, self.session_id, self.now, self.project, empty=True)
                    self._budget = budget.assemble(self.config, measured)
                    self._store_budget(stamp, self.now, measured, self._budget)
                    return self._budget
                from tierwise.hot.errors import StateError
                from tierwise.hot.ledger.db import sqlite3

                try:
                    # no budget defined: nothing to query, and no reason to open the ledger
                    conn = self._reading_conn() if any(budget._defined(self.config).values()) else self._conn
                    measured = budget.measure(conn, self.config, self.session_id, self.now, self.project)
                except (sqlite3.Error, StateError, OSError) as exc:
                    from tierwise.hot.hooks import fallback

                    self._budget = fallback.budget_state(self, cached, exc)
                    return self._budget
                self._budget = budget.assemble(self.config, measured)
                self._store_budget(stamp, self.now, measured, self._budget)
        return self._budget

    def _cache_holds(self, cached: Any, stamp: list[int]) -> TypeGuard[dict[str, Any]]:
        """Whether a ``budget_cache`` entry describes the ledger at ``stamp`` for this hook."""
        return (
            isinstance(cached, dict)
            and cached.get("stamp") == stamp
            and isinstance(cached.get("at"), (int, float))
            and 0 <= self.now - cached["at"] < BUDGET_TTL_S
            and cached.get("project") == self.project
            and cached.get("config") == self.budget_config_key()
        )

    def budget_config_key(self) -> str:
        """What of the config the budget state depends on, as text to compare."""
        if self._budget_config_key is None:
            self._budget_config_key = json.dumps([self.config.get(k) for k in BUDGET_CONFIG_KEYS], sort_keys=True,
                                                 default=str)
        return self._budget_config_key

    def _store_budget(self, stamp: list[int], at: float, measured: dict[str, Any], current: dict[str, Any]) -> None:
        entry = {"stamp": stamp, "at": at, "project": self.project, "config": self.budget_config_key(),
                 "measured": measured, "state": current}

        def change(st: dict[str, Any]) -> None:
            st["budget_cache"] = entry

        try:
            state.update(self.session_id, change)
        except (state.Busy, OSError):
            pass  # only a cache: the next hook measures again
        if self._session is not None:
            self._session["budget_cache"] = entry

    def budget_after_write(self, before: list[int], after: list[int] | None, rows: list[dict[str, Any]]) -> None:
        """Bring the cached budget state up to date after this process recorded usage,
        so the next PreToolUse needs no SQLite.

        ``before``: the ledger's stamp inside the write transaction, before these
        rows; ``after``: its stamp after the commit, None when another process
        also committed since (then ``after`` would describe rows this process
        has not seen). When the cached entry describes the ledger at ``before``,
        the rows are added to its measurement (no query, no ``datetime``);
        otherwise every window is measured again.
        """
        from tierwise.hot.ledger import budget

        cached = state.read(self.session_id).get("budget_cache")  # the newest entry, not this process's copy
        measured = None
        at = self.now
        if after is not None and self._cache_holds(cached, before) and isinstance(cached.get("measured"), dict):
            measured = budget.add_usage(cached["measured"], rows, int(self.now * 1000))
            at = cached["at"]  # the TTL still counts from the last full measurement
        if measured is None or after is None:
            after = ledger_stamp()
            measured = budget.measure(self.conn, self.config, self.session_id, self.now, self.project)
            at = self.now
        self._budget = budget.assemble(self.config, measured)
        self._store_budget(after, at, measured, self._budget)

    # -- session state, bounded by the deadline -----------------------------------
    def state_apply(self, ops: list[dict[str, Any]], what: str) -> dict[str, Any] | None:
        """Change the session state now (returns the state it made), or journal
        the change when its lock is busy (the next hook applies it; None). Only
        an unwritable state dir loses it: then a warning says ``what`` was lost."""
        try:
            return state.apply(self.session_id, ops)
        except OSError as exc:
            self.state_trouble(exc, f"{what} was not kept")
            return None

    def state_take(self, path: list[str], what: str) -> Any:
        try:
            return state.take(self.session_id, path)
        except OSError as exc:  # read-only or full: read it anyway, it cannot be removed
            self.state_trouble(exc, f"{what} was read but stays in it")
            holder: Any = state.peek(self.session_id)
            for part in path:
                holder = holder.get(part) if isinstance(holder, dict) else None
            return holder

    def state_update(self, change: Any, what: str) -> tuple[bool, Any]:
        """``(done, result)``: ``change`` under the session lock, or ``(False, None)``
        when the lock stays busy past the deadline (``what`` waits for a later
        hook) or the state cannot be written."""
        try:
            result = state.update(self.session_id, change)
        except state.Busy:
            return False, None
        except OSError as exc:
            self.state_trouble(exc, f"{what} was skipped")
            return False, None
        return True, result

    def state_trouble(self, exc: OSError, consequence: str) -> None:
        state_dir_trouble(exc, f"session state: {consequence}")

    def forget_budget(self) -> None:
        """After recording usage that could not update the cache: the next hook recomputes."""
        self._budget = None

    def run_id(self) -> str:
        if self.tool_use_id:
            return f"{self.session_id}:{self.tool_use_id}"
        return os.urandom(16).hex()  # uuid4's shape; `import uuid` costs a hook ~15 ms

    # -- audit ----------------------------------------------------------------
    def audit(self, text: str) -> None:
        """Append lines to the plain-text audit log in one write (O_APPEND)."""
        header = f"# {self.timestamp} session={self.session_id} client={self.adapter.name} event={self.event}"
        if self.tool_name:
            header += f" tool={self.tool_name}"
        data = (header + "\n" + text.rstrip("\n") + "\n").encode("utf-8", "replace")
        try:
            os.makedirs(paths.state_dir(), exist_ok=True)
            fd = paths.open_regular(audit_log_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:
            # the decision itself still goes to the client and the ledger
            state_dir_trouble(exc, "audit log: lines not appended")


def dumps_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)
