"""Everything a hook process may import: the standard library, this package and
``tierwise.clients.<name>.hook`` (with the modules of its own client folder it
imports). tests/test_hot_imports.py derives the set from the import graph and
fails when a module here imports anything else (docs/ARCHITECTURE.md)."""
