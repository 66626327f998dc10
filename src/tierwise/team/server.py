"""The team server: schema, roles, row-level security, members, connection URLs.

Everything lives in the PostgreSQL schema ``tierwise`` of the team's database.
Migrations are append-only steps (component ``team`` in
``tierwise.schema_versions``), applied by ``tierwise team init`` in one
transaction under an advisory lock, so running it again (or twice at once)
is harmless.

Roles (names derived from the database, so several teams can share a cluster):
``tw_<db>_team`` (NOLOGIN, holds the members' privileges) and one LOGIN role
``tw_<db>_m_<name>`` per member. A member may INSERT rows in its own name
(row-level security checks ``member = session_user``), read its own sync marks
and call the aggregate functions (SECURITY DEFINER, owned by the admin who ran
``init``); nothing else: no SELECT on other members' rows, no UPDATE, DELETE,
TRUNCATE or DROP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from tierwise.hot.errors import RemoteError, UsageError

SCHEMA = "tierwise"
COMPONENT = "team"
CONNECT_TIMEOUT_S = 10
MEMBER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

# Released steps are never edited: append new ones (each runs once, in order).
_STEP_1 = """
CREATE TABLE tierwise.members (
    name        text PRIMARY KEY,
    role        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- One row per request as a machine's ledger first pushed it (seq 0, sign +1).
-- A local row updated after it was pushed (a price found later, a subagent's
-- skill linked by an import) adds a retract (-1, the old values) and an assert
-- (+1, the new values) under the change's seq: every aggregate is a plain
-- SUM(sign * x) and the table stays insert-only.
CREATE TABLE tierwise.usage (
    member          text NOT NULL DEFAULT session_user,
    ledger          text NOT NULL,
    local_id        bigint NOT NULL,
    seq             bigint NOT NULL DEFAULT 0,
    sign            smallint NOT NULL DEFAULT 1 CHECK (sign IN (-1, 1)),
    client          text,
    model           text,
    tier            text,
    input           bigint NOT NULL DEFAULT 0,
    output          bigint NOT NULL DEFAULT 0,
    cache_write_5m  bigint NOT NULL DEFAULT 0,
    cache_write_1h  bigint NOT NULL DEFAULT 0,
    cache_read      bigint NOT NULL DEFAULT 0,
    session_id      text,
    project         text,
    skill           text,
    agent_id        text,
    run_id          text,
    ts              bigint NOT NULL,
    source          text,
    message_id      text,
    request_id      text,
    cost_usd        double precision,
    price_source    text,
    origin          text,
    provisional     text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member, ledger, local_id, seq, sign)
);
CREATE INDEX usage_ts ON tierwise.usage (ts);
-- What a ledger has pushed: written in the same transaction as the rows, so
-- the server alone says where the next sync starts (a killed sync or a
-- restarted server leaves no gap and no duplicate).
CREATE TABLE tierwise.sync_marks (
    member          text NOT NULL DEFAULT session_user,
    ledger          text NOT NULL,
    rows_through    bigint NOT NULL,
    changes_through bigint NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member, ledger, rows_through, changes_through)
);
ALTER TABLE tierwise.usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_own_insert ON tierwise.usage FOR INSERT WITH CHECK (member = session_user);
ALTER TABLE tierwise.sync_marks ENABLE ROW LEVEL SECURITY;
CREATE POLICY marks_own_insert ON tierwise.sync_marks FOR INSERT WITH CHECK (member = session_user);
CREATE POLICY marks_own_read ON tierwise.sync_marks FOR SELECT USING (member = session_user);

CREATE FUNCTION tierwise.window_totals(since_ms bigint, opus text)
RETURNS TABLE (tokens bigint, opus_tokens bigint, opus_messages bigint, total_spend double precision,
               requests bigint, unpriced bigint, oldest_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT COALESCE(SUM(u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read)), 0)::bigint,
       COALESCE(SUM(CASE WHEN u.tier = opus
                    THEN u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read)
                    ELSE 0 END), 0)::bigint,
       COALESCE(SUM(CASE WHEN u.tier = opus THEN u.sign ELSE 0 END), 0)::bigint,
       COALESCE(SUM(u.sign * u.cost_usd), 0)::double precision,
       COALESCE(SUM(u.sign), 0)::bigint,
       COALESCE(SUM(CASE WHEN u.cost_usd IS NULL THEN u.sign ELSE 0 END), 0)::bigint,
       MIN(u.ts)
FROM tierwise.usage u
WHERE u.ts >= since_ms
$$;

CREATE FUNCTION tierwise.report_rows(grp text, since_ms bigint, until_ms bigint)
RETURNS TABLE (key text, model text, price_source text, input bigint, output bigint, cache_write bigint,
               cache_read bigint, requests bigint, cost_usd double precision, unpriced_tokens bigint,
               cache_write_5m bigint, cache_write_1h bigint, first_ms bigint, last_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
SELECT CASE grp WHEN 'bucket' THEN (u.ts / 900000)::text WHEN 'skill' THEN u.skill WHEN 'model' THEN u.model
                WHEN 'member' THEN COALESCE(m.name, u.member)
                WHEN 'provisional' THEN (u.provisional IS NOT NULL)::text END,
       u.model, u.price_source,
       SUM(u.sign * u.input)::bigint, SUM(u.sign * u.output)::bigint,
       SUM(u.sign * (u.cache_write_5m + u.cache_write_1h))::bigint, SUM(u.sign * u.cache_read)::bigint,
       SUM(u.sign)::bigint, SUM(u.sign * u.cost_usd)::double precision,
       SUM(CASE WHEN u.cost_usd IS NULL
           THEN u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read) ELSE 0 END)::bigint,
       SUM(u.sign * u.cache_write_5m)::bigint, SUM(u.sign * u.cache_write_1h)::bigint,
       MIN(u.ts), MAX(u.ts)
FROM tierwise.usage u LEFT JOIN tierwise.members m ON m.role = u.member
WHERE (since_ms IS NULL OR u.ts >= since_ms) AND (until_ms IS NULL OR u.ts < until_ms)
GROUP BY 1, 2, 3
HAVING SUM(u.sign) <> 0
$$;
"""

# Step 2: hourly rollups for the budget windows. A sync pulls three window
# totals; summing raw rows makes that cost grow with the table (seconds at 5M
# rows). ``usage_hourly`` holds per (hour, member, tier) sums, kept by a
# statement trigger over the rows each INSERT really added (its transition
# table leaves out the rows ON CONFLICT skipped), so a window is its full hours
# from the rollup plus the raw rows of the one partial hour at its start.
_STEP_2 = """
CREATE TABLE tierwise.usage_hourly (
    hour_ms     bigint NOT NULL,
    member      text NOT NULL,
    tier        text NOT NULL,
    tokens      bigint NOT NULL,
    requests    bigint NOT NULL,
    cost_usd    double precision NOT NULL,
    unpriced    bigint NOT NULL,
    oldest_ms   bigint,
    PRIMARY KEY (hour_ms, member, tier)
);
INSERT INTO tierwise.usage_hourly
SELECT u.ts - u.ts % 3600000, u.member, COALESCE(u.tier, ''),
       SUM(u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read)), SUM(u.sign),
       COALESCE(SUM(u.sign * u.cost_usd), 0), SUM(CASE WHEN u.cost_usd IS NULL THEN u.sign ELSE 0 END), MIN(u.ts)
FROM tierwise.usage u GROUP BY 1, 2, 3;

CREATE FUNCTION tierwise.roll_up() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- in key order: two pushes of one member lock the rows they share in the same order (no deadlock)
    INSERT INTO tierwise.usage_hourly AS h (hour_ms, member, tier, tokens, requests, cost_usd, unpriced, oldest_ms)
    SELECT n.ts - n.ts % 3600000, n.member, COALESCE(n.tier, ''),
           SUM(n.sign * (n.input + n.output + n.cache_write_5m + n.cache_write_1h + n.cache_read)), SUM(n.sign),
           COALESCE(SUM(n.sign * n.cost_usd), 0), SUM(CASE WHEN n.cost_usd IS NULL THEN n.sign ELSE 0 END), MIN(n.ts)
    FROM added n GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (hour_ms, member, tier) DO UPDATE SET
        tokens = h.tokens + excluded.tokens, requests = h.requests + excluded.requests,
        cost_usd = h.cost_usd + excluded.cost_usd, unpriced = h.unpriced + excluded.unpriced,
        oldest_ms = LEAST(h.oldest_ms, excluded.oldest_ms);
    RETURN NULL;
END
$$;
CREATE TRIGGER usage_roll_up AFTER INSERT ON tierwise.usage
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tierwise.roll_up();

CREATE OR REPLACE FUNCTION tierwise.window_totals(since_ms bigint, opus text)
RETURNS TABLE (tokens bigint, opus_tokens bigint, opus_messages bigint, total_spend double precision,
               requests bigint, unpriced bigint, oldest_ms bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
WITH parts AS (
    -- the window's full hours from the rollup ...
    SELECT h.tokens, CASE WHEN h.tier = opus THEN h.tokens ELSE 0 END AS opus_tokens,
           CASE WHEN h.tier = opus THEN h.requests ELSE 0 END AS opus_messages,
           h.cost_usd, h.requests, h.unpriced, h.oldest_ms
    FROM tierwise.usage_hourly h
    WHERE h.hour_ms >= since_ms + (3600000 - since_ms % 3600000) % 3600000
    UNION ALL
    -- ... and the raw rows of its first, partial hour: a two-sided range on ts, so the
    -- planner takes the index whatever it guesses for since_ms
    SELECT u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read),
           CASE WHEN u.tier = opus
                THEN u.sign * (u.input + u.output + u.cache_write_5m + u.cache_write_1h + u.cache_read) ELSE 0 END,
           CASE WHEN u.tier = opus THEN u.sign ELSE 0 END,
           COALESCE(u.sign * u.cost_usd, 0), u.sign, CASE WHEN u.cost_usd IS NULL THEN u.sign ELSE 0 END, u.ts
    FROM tierwise.usage u
    WHERE u.ts >= since_ms AND u.ts < since_ms + (3600000 - since_ms % 3600000) % 3600000
)
SELECT COALESCE(SUM(p.tokens), 0)::bigint, COALESCE(SUM(p.opus_tokens), 0)::bigint,
       COALESCE(SUM(p.opus_messages), 0)::bigint, COALESCE(SUM(p.cost_usd), 0)::double precision,
       COALESCE(SUM(p.requests), 0)::bigint, COALESCE(SUM(p.unpriced), 0)::bigint, MIN(p.oldest_ms)
FROM parts p
$$;
"""

STEPS: list[str] = [_STEP_1, _STEP_2]


# --- psycopg and connections -------------------------------------------------


def psycopg() -> Any:
    try:
        import psycopg as module
    except ImportError:
        raise UsageError(
            "team budgets need the PostgreSQL driver psycopg, which is not installed",
            fix="pip install 'tierwise[team]' (or pip install 'psycopg[binary]')",
        ) from None
    return module


def params_of(url: str) -> dict[str, str]:
    """The connection parameters of a libpq URL (``postgresql://...``) or a
    ``key=value`` string; a clear error for anything else."""
    conninfo = psycopg().conninfo
    try:
        params = conninfo.conninfo_to_dict(url)
    except Exception as exc:  # psycopg.ProgrammingError; the text never holds the password
        raise UsageError(f"not a PostgreSQL connection URL: {str(exc).splitlines()[0]}",
                         fix="use postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None
    return {k: str(v) for k, v in params.items() if v is not None}


def make_url(params: dict[str, str]) -> str:
    """A ``postgresql://`` URL from connection parameters (unix-socket hosts go to the query)."""
    rest = {k: v for k, v in params.items() if k not in ("user", "password", "host", "port", "dbname")}
    host = params.get("host", "")
    if host.startswith("/") or "," in host:
        rest["host"] = host
        host = ""
    auth = ""
    if params.get("user"):
        auth = quote(params["user"], safe="")
        if params.get("password"):
            auth += ":" + quote(params["password"], safe="")
        auth += "@"
    port = f":{params['port']}" if params.get("port") and host else ""
    if params.get("port") and not host:
        rest["port"] = params["port"]
    url = f"postgresql://{auth}{host}{port}/{quote(params.get('dbname', ''), safe='')}"
    return url + ("?" + urlencode(sorted(rest.items())) if rest else "")


def mask(url: str) -> str:
    """The URL with its password (if any) shown as ``****``: what status and logs print."""
    try:
        params = params_of(url)
    except UsageError:
        return "(unparsable URL)"
    if params.get("password"):
        params["password"] = "****"
    return make_url(params).replace("%2A%2A%2A%2A", "****")


def where(url: str) -> str:
    """``host:port/db`` of a URL, for one-line messages."""
    try:
        params = params_of(url)
    except UsageError:
        return "(unparsable URL)"
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def _scrub(text: str, url: str) -> str:
    try:
        password = params_of(url).get("password")
    except UsageError:
        password = None
    first = (text.strip().splitlines() or ["no details"])[0]
    return first.replace(password, "****") if password else first


def connect(url: str, *, timeout_s: float = CONNECT_TIMEOUT_S, statement_timeout_ms: int | None = None) -> Any:
    """A psycopg connection, or :class:`RemoteError` with one line saying why not."""
    pg = psycopg()
    options = f"-c statement_timeout={int(statement_timeout_ms)}" if statement_timeout_ms else None
    try:
        kwargs: dict[str, Any] = {"connect_timeout": max(1, int(timeout_s)), "application_name": "tierwise"}
        if options:
            kwargs["options"] = options
        return pg.connect(url, **kwargs)
    except pg.Error as exc:
        raise RemoteError(f"cannot reach the team server {where(url)}: {_scrub(str(exc), url)}") from None


def remote_error(exc: BaseException, url: str, doing: str) -> RemoteError:
    """A psycopg failure in the middle of ``doing``, as one line."""
    pg = psycopg()
    text = _scrub(str(exc), url)
    if isinstance(exc, pg.errors.InsufficientPrivilege):
        return RemoteError(f"the team server refused {doing}: {text} (is this a member URL of this team?)")
    return RemoteError(f"the team server failed while {doing} ({where(url)}): {text}")


# --- schema ---------------------------------------------------------------------


def role_names(conn: Any) -> tuple[str, str]:
    """(group role, member role prefix) for this database."""
    db = str(conn.execute("SELECT current_database()").fetchone()[0])
    slug = re.sub(r"[^a-z0-9_]", "_", db.lower())
    return f"tw_{slug}_team", f"tw_{slug}_m_"


def schema_version(conn: Any) -> int:
    row = conn.execute(
        "SELECT to_regclass('tierwise.schema_versions') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    found = conn.execute("SELECT version FROM tierwise.schema_versions WHERE component = %s", (COMPONENT,)).fetchone()
    return int(found[0]) if found else 0


def init(admin_url: str) -> dict[str, Any]:
    """Create or migrate the team schema; idempotent. Returns what was done."""
    pg = psycopg()
    sql = pg.sql
    conn = connect(admin_url)
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('tierwise team init'))")
            conn.execute("CREATE SCHEMA IF NOT EXISTS tierwise")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tierwise.schema_versions (component text PRIMARY KEY, "
                "version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            before = schema_version(conn)
            if before > len(STEPS):
                raise RemoteError(f"the team schema on {where(admin_url)} is version {before}, newer than this "
                                  f"tierwise knows ({len(STEPS)}): upgrade tierwise before running init")
            for number in range(before, len(STEPS)):
                conn.execute(STEPS[number])
                conn.execute(
                    "INSERT INTO tierwise.schema_versions (component, version) VALUES (%s, %s) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = now()",
                    (COMPONENT, number + 1))
            group, _ = role_names(conn)
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)))
            g = sql.Identifier(group)
            for statement in (
                "REVOKE ALL ON SCHEMA tierwise FROM PUBLIC",
                "REVOKE ALL ON ALL TABLES IN SCHEMA tierwise FROM PUBLIC",
                "REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tierwise FROM PUBLIC",
                "GRANT USAGE ON SCHEMA tierwise TO {g}",
                "GRANT INSERT ON tierwise.usage TO {g}",
                "GRANT SELECT, INSERT ON tierwise.sync_marks TO {g}",
                "GRANT SELECT ON tierwise.members, tierwise.schema_versions TO {g}",
                "GRANT EXECUTE ON FUNCTION tierwise.window_totals(bigint, text), "
                "tierwise.report_rows(text, bigint, bigint) TO {g}",
            ):
                conn.execute(sql.SQL(statement).format(g=g))
        return {"server": where(admin_url), "version_before": before, "version": len(STEPS), "group_role": group}
    except pg.Error as exc:
        raise remote_error(exc, admin_url, "setting up the team schema") from None
    finally:
        conn.close()


# --- members ----------------------------------------------------------------------


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``: the
    server (and its statement log) never sees the password itself."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _member_url(admin_url: str, role: str, password: str) -> str:
    params = params_of(admin_url)
    keep = {k: v for k, v in params.items()
            if k not in ("user", "password", "passfile", "sslcert", "sslkey", "sslpassword", "service")}
    return make_url({**keep, "user": role, "password": password})


def add_member(admin_url: str, name: str, *, reset_password: bool = False) -> dict[str, Any]:
    """Create member ``name`` (its own LOGIN role) and return its URL (holding a
    fresh random password, which is stored on the server only as a verifier)."""
    if not MEMBER_NAME.match(name):
        raise UsageError(f"member name {name!r} is not allowed",
                         fix="use 1-32 characters: lower-case letters, digits and _, starting with a letter")
    pg = psycopg()
    sql = pg.sql
    conn = connect(admin_url)
    try:
        with conn.transaction():
            if schema_version(conn) < 1:
                raise UsageError(f"there is no team schema on {where(admin_url)} yet",
                                 fix="run `tierwise team init ADMIN_URL` first")
            group, prefix = role_names(conn)
            role = prefix + name
            if len(role.encode()) > 63:
                raise UsageError(f"the role name {role!r} would exceed PostgreSQL's 63 bytes",
                                 fix="choose a shorter member name")
            password = secrets.token_urlsafe(24)
            verifier = scram_verifier(password)
            known = conn.execute("SELECT role FROM tierwise.members WHERE name = %s", (name,)).fetchone()
            if known is not None and not reset_password:
                raise UsageError(f"member {name!r} already exists",
                                 fix="pass --reset-password to issue it a new URL (the old one stops working)")
            if known is None:
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None:
                    raise UsageError(f"a database role {role!r} exists but is not a member of this team",
                                     fix="drop or rename that role, or choose another member name")
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(role), sql.Literal(verifier), sql.Identifier(group)))
                conn.execute("INSERT INTO tierwise.members (name, role) VALUES (%s, %s)", (name, role))
            else:
                conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(verifier)))
        return {"member": name, "role": role, "url": _member_url(admin_url, role, password)}
    except pg.Error as exc:
        raise remote_error(exc, admin_url, f"creating member {name!r}") from None
    finally:
        conn.close()
