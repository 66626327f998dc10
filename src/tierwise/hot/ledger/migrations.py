"""The ledger's schema, component ``ledger``: append-only migration steps.

Hot module (imported by ``ledger.db.connect``): standard library only.
Never edit a released step; append a new one. ``tests/ledger`` builds a
ledger with the first step only and checks that migrating keeps every row.

Timestamps are stored twice: ``ts`` (integer Unix milliseconds, indexed, what
window queries compare) and ``timestamp`` (the ISO text as received).
"""

from __future__ import annotations

# Step 1 (0.1.0-dev): per-request usage and routing decisions.
_STEP_1 = """
CREATE TABLE usage (
    id              INTEGER PRIMARY KEY,
    client          TEXT NOT NULL,            -- claude_code | qwen_code | codex
    model           TEXT,                     -- concrete model id as the client reported it
    tier            TEXT,                     -- tier name (config mapping, else model family)
    input           INTEGER NOT NULL DEFAULT 0,
    output          INTEGER NOT NULL DEFAULT 0,
    cache_write_5m  INTEGER NOT NULL DEFAULT 0,
    cache_write_1h  INTEGER NOT NULL DEFAULT 0,
    cache_read      INTEGER NOT NULL DEFAULT 0,
    session_id      TEXT,
    project         TEXT,
    skill           TEXT,
    agent_id        TEXT,
    run_id          TEXT,
    ts              INTEGER NOT NULL,         -- Unix ms
    timestamp       TEXT NOT NULL,
    source          TEXT NOT NULL,            -- hook | import
    message_id      TEXT,
    request_id      TEXT,
    source_key      TEXT,                     -- where an imported line came from (file:inode:offset:crc)
    cost_usd        REAL,                     -- NULL = no known price
    price_source    TEXT,
    UNIQUE (message_id, request_id),
    UNIQUE (source_key)
);
CREATE INDEX usage_ts ON usage(ts);
CREATE INDEX usage_session_ts ON usage(session_id, ts);
CREATE TABLE decisions (
    run_id      TEXT PRIMARY KEY,
    session_id  TEXT,
    skill       TEXT,
    tool        TEXT,
    platform    TEXT,
    preferred   TEXT,
    minimum     TEXT,
    tier        TEXT,
    model       TEXT,
    reason      TEXT,
    zone        TEXT,
    blocked     INTEGER NOT NULL DEFAULT 0,
    steps       TEXT,                         -- JSON list
    route       TEXT,                         -- rendered [ROUTE] lines
    ts          INTEGER NOT NULL,
    timestamp   TEXT NOT NULL,
    project     TEXT
);
CREATE INDEX decisions_ts ON decisions(ts);
CREATE INDEX decisions_session ON decisions(session_id, ts);
"""

# Step 2: skill runs (§5.1 records), session summaries, incremental import
# state, subagent links (agentId -> the Agent tool call that started it).
_STEP_2 = """
CREATE TABLE skill_runs (
    run_id              TEXT PRIMARY KEY,
    skill               TEXT,
    model_requested     TEXT,
    model_used_tier     TEXT,
    model_used_id       TEXT,
    downgrade_reason    TEXT,
    input               INTEGER,
    output              INTEGER,
    cache_read          INTEGER,
    cache_write         INTEGER,
    tool_calls          INTEGER,
    total               INTEGER,
    cost_actual         REAL,
    cost_if_sonnet      REAL,
    cost_if_opus        REAL,
    savings_vs_opus     TEXT,
    zone                TEXT,
    weekly_consumed_pct REAL,
    session_consumed_pct REAL,
    ts                  INTEGER NOT NULL,
    timestamp           TEXT NOT NULL,
    session_id          TEXT,
    platform            TEXT,
    project             TEXT,
    record              TEXT NOT NULL         -- the full JSON record
);
CREATE INDEX skill_runs_ts ON skill_runs(ts);
CREATE INDEX skill_runs_session ON skill_runs(session_id, ts);
CREATE TABLE session_summaries (
    session_id  TEXT PRIMARY KEY,
    platform    TEXT,
    project     TEXT,
    ts          INTEGER NOT NULL,
    timestamp   TEXT NOT NULL,
    summary     TEXT NOT NULL                 -- JSON
);
CREATE TABLE import_state (
    path        TEXT PRIMARY KEY,
    client      TEXT NOT NULL,
    inode       INTEGER,
    size        INTEGER,
    offset      INTEGER NOT NULL DEFAULT 0,
    mtime       REAL,
    context     TEXT                          -- JSON: attribution state carried across runs
);
CREATE TABLE agent_links (
    agent_id     TEXT PRIMARY KEY,
    session_id   TEXT,
    tool_use_id  TEXT,
    subagent_type TEXT,
    skill        TEXT,
    prompt       TEXT
);
CREATE INDEX usage_agent ON usage(agent_id);
CREATE INDEX usage_pending ON usage(price_source) WHERE price_source = 'pending';
"""

# Step 3 (issue 11): where each usage row came from, and provisional rows.
# ``origin``: hook_payload | subagent_transcript | session_transcript | import
# (NULL on rows written before this step: ``record.ORIGIN_SQL`` derives it, so
# the step does not rewrite a large table). ``provisional``: NULL for a final
# row; for a row made from a hook payload without ids, what it stands for until
# the transcript's rows replace it: ``last_request`` (Claude Code's
# PostToolUse(Agent) ``tool_response.usage``: the subagent's last request) or
# ``all_requests`` (Qwen Code's ``executionSummary``: every round of the
# subagent). Rows such hooks wrote before this step (source key
# ``hook:claude:<run>`` / ``hook:qwen:<run>``) are exactly those, so they become
# provisional too and the next import settles them. ``usage_replaced`` keeps each
# replaced provisional row (what was counted until the transcript arrived).
_STEP_3 = """
ALTER TABLE usage ADD COLUMN origin TEXT;
ALTER TABLE usage ADD COLUMN provisional TEXT;
UPDATE usage SET origin = 'hook_payload', provisional = 'last_request'
    WHERE source_key >= 'hook:claude:' AND source_key < 'hook:claude;' AND source = 'hook';
UPDATE usage SET origin = 'hook_payload', provisional = 'all_requests'
    WHERE source_key >= 'hook:qwen:' AND source_key < 'hook:qwen;' AND source = 'hook';
CREATE INDEX usage_provisional ON usage(session_id) WHERE provisional IS NOT NULL;
CREATE TABLE usage_replaced (
    id              INTEGER PRIMARY KEY,      -- the provisional row's usage.id
    source_key      TEXT UNIQUE,
    client          TEXT,
    model           TEXT,
    tier            TEXT,
    input           INTEGER,
    output          INTEGER,
    cache_write_5m  INTEGER,
    cache_write_1h  INTEGER,
    cache_read      INTEGER,
    session_id      TEXT,
    project         TEXT,
    skill           TEXT,
    agent_id        TEXT,
    run_id          TEXT,
    ts              INTEGER,
    timestamp       TEXT,
    origin          TEXT,
    provisional     TEXT,
    cost_usd        REAL,
    price_source    TEXT,
    replaced_by     INTEGER,                  -- usage.id of the first final row that replaced it
    replaced_agent  TEXT,                     -- agent_id of the final rows that replaced it
    replaced_at     INTEGER NOT NULL          -- Unix ms
);
CREATE INDEX usage_replaced_session ON usage_replaced(session_id);
"""

# Step 4 (issue 11, inline skills): how each decision's tier was applied.
# ``enforcement``: enforced | advisory (NULL on decisions recorded before);
# ``enforcement_note``: how (forked copy, subagent model, pinned model:) or why not.
_STEP_4 = """
ALTER TABLE decisions ADD COLUMN enforcement TEXT;
ALTER TABLE decisions ADD COLUMN enforcement_note TEXT;
"""

LEDGER_STEPS: list[str] = [_STEP_1, _STEP_2, _STEP_3, _STEP_4]
