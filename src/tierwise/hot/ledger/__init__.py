"""The hot parts of the SQLite usage ledger: db, migrations, record, spool,
budget, pricing, settle. The cold parts (importers' core, reports) live in
``tierwise.ledger``."""
