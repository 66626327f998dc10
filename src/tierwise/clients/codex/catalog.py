"""Codex CLI's model catalog, as the pinned client ships it (``data/codex-models.json``,
from ``codex debug models`` of @openai/codex 0.171.0). Codex refuses a
``spawn_agent`` whose ``model`` is not in its catalog, so a tier whose ``codex``
model id is not there cannot be enforced: ``tierwise validate --platform codex``
says so.

Cold module.
"""

from __future__ import annotations

import json
import os
from typing import Any

CATALOG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "data", "codex-models.json")


def load() -> dict[str, Any]:
    with open(CATALOG, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def slugs() -> list[str]:
    return [str(m["slug"]) for m in load()["models"]]


def unknown_model_warnings(resolved: dict[str, Any]) -> list[dict[str, Any]]:
    """One warning per tier whose ``codex`` model id is not in the catalog (or is missing)."""
    known = slugs()
    version = load().get("codex_version")
    out: list[dict[str, Any]] = []
    for tier in resolved.get("tiers") or []:
        models = tier.get("models") or {}
        model = models.get("codex")
        key = f"tiers.{tier['name']}.codex"
        if not isinstance(model, str) or not model:
            out.append({"field": key, "message": f"tier {tier['name']} has no Codex CLI model id: Codex subagents "
                        "of this tier cannot be put on it",
                        "fix": f"set {key} to one of: {', '.join(known)}"})
        elif model not in known:
            out.append({"field": key, "message": f"{model!r} is not in Codex CLI {version}'s model catalog: Codex "
                        "refuses a subagent on it, so this tier is not enforced on Codex",
                        "fix": f"use one of: {', '.join(known)} (`codex debug models` lists your Codex's catalog)"})
    return out
