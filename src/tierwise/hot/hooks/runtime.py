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
# the resolved config keys ledger.budget reads
BUDGET_CONFIG_KEYS = ("budgets", "team_budgets", "budget_windows", "priority_reserve", "zones", "session", "tiers")


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
        return self._cache

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
        return entry if isinstance(entry, dict) else None

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
        if self._conn is None:
            from tierwise.hot.ledger import connection

            self._conn = connection.connect()
        return self._conn

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

                measured = budget.measure(self.conn, self.config, self.session_id, self.now, self.project)
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

        state.update(self.session_id, change)
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
        os.makedirs(paths.state_dir(), exist_ok=True)
        fd = os.open(audit_log_path(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def dumps_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)
