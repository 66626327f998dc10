"""Claude Code: hook adapter (hot), transcript importer, installer parts."""
