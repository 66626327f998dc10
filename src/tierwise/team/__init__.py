"""Team ledger on PostgreSQL (issue 14): one ledger for a whole team, across machines.

Cold only: psycopg is imported here and never by a hook process. The local
SQLite ledger stays the hot path; ``tierwise team sync`` pushes its rows to
the team server and pulls the team's budget-window totals into a JSON cache
(``$TIERWISE_HOME/team/budget.json``) that ``ledger.budget`` reads.

- ``server``: the server schema (append-only migrations), roles and
  row-level security, member creation, connection URLs.
- ``local``: the team component of the local ledger (its id, the change log
  of updated rows), the member URL on this machine, sync state files.
- ``sync``: push (exactly once, resumable) and pull.
- ``report``: team reports in the local reports' JSON shape.

Protocol and guarantees: docs/team.md.
"""
