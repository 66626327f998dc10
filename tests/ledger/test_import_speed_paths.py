"""What keeps `tierwise import` and `tierwise report` fast in a new state dir: the
packaged defaults resolved at build time (no yaml / jsonschema) and the shipped
price seed (no genai-prices); neither is used when it no longer matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from ledger_helpers import corpus_module
from tierwise.config import resolve
from tierwise.ledger import configsnap

COLD = ("yaml", "jsonschema", "rich", "genai_prices")


def test_the_packaged_resolution_is_what_the_defaults_resolve_to(tmp_path: Path) -> None:
    with open(configsnap.PACKAGED_RESOLVED, encoding="utf-8") as fh:
        data = json.load(fh)
    pkg = configsnap.layer_files(str(tmp_path), "claude_code")[0]
    assert data["crc"] == zlib.crc32(Path(pkg).read_bytes()), "data/model-routing.yaml changed: run scripts/gen-seeds"
    assert data["format"] == configsnap.SNAPSHOT_FORMAT, "the snapshot format changed: run scripts/gen-seeds"
    for platform in ("claude_code", "qwen_code", "codex"):
        expected = json.loads(json.dumps(configsnap.kept(resolve(str(tmp_path), platform))))
        assert data["platforms"][platform] == expected, "run scripts/gen-seeds"
        assert configsnap.packaged(str(tmp_path), platform) == expected


def test_the_packaged_resolution_is_used_only_without_project_layers(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "proj"
    (project / ".claude").mkdir(parents=True)
    assert configsnap.packaged(str(project), "claude_code") is not None
    assert configsnap.packaged(str(tmp_path / "missing"), "claude_code") is None  # resolve says what is wrong
    (project / ".claude" / "model-routing.yaml").write_text("tiers: {}\n")
    assert configsnap.packaged(str(project), "claude_code") is None
    # made from another YAML than the installed one: not used
    other = tmp_path / "resolved.json"
    data = json.loads(Path(configsnap.PACKAGED_RESOLVED).read_text())
    data["crc"] += 1
    other.write_text(json.dumps(data))
    monkeypatch.setattr(configsnap, "PACKAGED_RESOLVED", str(other))
    assert configsnap.packaged(str(tmp_path), "claude_code") is None


def test_a_first_import_and_report_in_a_new_state_dir_import_no_cold_library(tmp_path: Path) -> None:
    """yaml, jsonschema, rich and genai-prices stay out of the import and the report when
    the project has no config of its own (the packaged defaults, the shipped prices)."""
    from tierwise import prices

    with open(prices.SEED_PATH, encoding="utf-8") as fh:
        made_by = json.load(fh)["generated_by"]
    assert made_by == prices.source_label(), (
        f"the shipped price seed is from {made_by}, the installed one is {prices.source_label()}:"
        " scripts/bootstrap installs constraints.txt's pin; scripts/gen-seeds after changing it"
    )
    root = tmp_path / "claude"
    corpus_module().generate(str(root), mb=0.2, seed=5)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    code = (
        "import sys, json\n"
        "from tierwise.cli import main\n"
        f"rc = main(sys.argv[1:])\n"
        f"print(json.dumps({{'rc': rc, 'cold': [m for m in {COLD!r} if m in sys.modules]}}), file=sys.stderr)\n"
    )
    env = {**os.environ, "TIERWISE_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    for args in (["import", "claude", "--config-dir", str(root), "--json"], ["report", "session", "--json"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                              cwd=cwd)
        verdict = json.loads(proc.stderr.strip().splitlines()[-1])
        assert verdict == {"rc": 0, "cold": []}, proc.stderr
    report = json.loads(proc.stdout)
    assert report["totals"]["total"] > 0 and report["coverage"]["share"] == 1.0  # priced from the seed
