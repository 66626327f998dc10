from __future__ import annotations

from pathlib import Path

import pytest

PRICES = """\
tiers:
  haiku:
    price_per_mtok: {input: 1, output: 5}
  sonnet:
    price_per_mtok: {input: 3, output: 15}
  opus:
    price_per_mtok: {input: 15, output: 75}
"""

MAPPER = (
    "---\n"
    "name: mapper\n"
    "description: Traces imports and builds a component tree.\n"
    "routing:\n"
    "  preferred: opus   # until evals say otherwise\n"
    "  acceptable: [haiku, sonnet, opus]\n"
    "  minimum: haiku\n"
    "  reasoning_demand: low\n"
    "---\n"
    "\n"
    "# Mapper\n"
    "routing: this line is body text\n"
)

TRACER = "---\r\nname: tracer\r\ndescription: Traces.\r\nmodel: opus\r\n---\r\nBody\r\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with per-tier prices and two skills; the cwd for the CLI."""
    from tierwise.hot.ledger import pricing

    root = tmp_path / "project"
    (root / "pipeline" / "config").mkdir(parents=True)
    (root / "pipeline" / "config" / "model-routing.yaml").write_text(PRICES, encoding="utf-8")
    for name, text in (("mapper", MAPPER), ("tracer", TRACER)):
        d = root / ".claude" / "skills" / name
        d.mkdir(parents=True)
        (d / "SKILL.md").write_bytes(text.encode())
    monkeypatch.chdir(root)
    pricing.reset_cache()
    return root
