"""Codex CLI: hook adapter (hot), transcript importer, installer parts."""
