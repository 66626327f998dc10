"""Qwen Code: hook adapter (hot), transcript importer, installer parts, frontmatter port, agent definitions."""
