"""SQLite usage ledger: db, record, budget (hot); import, reports (cold)."""
