"""check_frontmatter (spec §7.2, Warn tier): the rules a SKILL.md routing block
should follow, what Qwen Code would make of the file, and ``--fix``.

``check_text(text, path, platform) -> [{"field", "message", "fix"}]``: never
raises for bad content; YAML that does not parse is one warning.

Cold module.
"""

from __future__ import annotations

import os
import re
from typing import Any

from tierwise.clients.qwen import frontmatter as qwen_yaml
from tierwise.yamlschema import describe_value, nearest, node_line
from tierwise.hot.errors import TierwiseError, format_key_path
from tierwise.modelblock import BLOCK_KEYS, CONDITION_KEYS, ESTIMATE_KEYS, REASONING_DEMANDS, find_block, parse_range
from tierwise.skills import parse_skill_text

DEFAULT_TIERS = ["haiku", "sonnet", "opus"]


def is_qwen(platform: str | None, path: str | None) -> bool:
    if platform and platform.lower().startswith("qwen"):
        return True
    if path:
        parts = os.path.abspath(path).replace("\\", "/").split("/")
        return ".qwen" in parts
    return False


def check_text(
    text: str, path: str | None = None, platform: str | None = None, tier_names: list[str] | None = None
) -> list[dict[str, Any]]:
    tiers = list(tier_names or DEFAULT_TIERS)
    warnings: list[dict[str, Any]] = []

    def warn(field: str, message: str, fix: str, line: int | None = None) -> None:
        warnings.append({"field": field, "message": (f"line {line}: " if line else "") + message, "fix": fix})

    try:
        parsed = parse_skill_text(text, path or "SKILL.md")
    except TierwiseError as exc:
        warn("(frontmatter)", exc.message, exc.fix or "fix the YAML between the --- lines")
        parsed = None
    qwen = is_qwen(platform, path)
    if parsed is not None:
        fm, node = parsed["frontmatter"], parsed["node"]

        def line_of(parts: list[str | int], key: bool = True) -> int | None:
            return node_line(node, parts, key=key, line_offset=1) if node is not None else None

        raw, placement = find_block(fm, tiers)
        model = fm.get("model")
        if placement == "routing" and isinstance(model, dict):
            warn("model", "both `routing:` and a `model:` mapping are present; `routing:` is used, `model:` ignored",
                 "delete the `model:` mapping", line_of(["model"]))
        if "routing" in fm and fm["routing"] is None:
            warn("routing", "`routing:` is empty", "give it a tier or a mapping, or delete it", line_of(["routing"]))
        prefix = "routing" if placement == "routing" else "model"
        if isinstance(raw, str) or (placement == "routing" and not isinstance(raw, dict)):
            if raw not in tiers:
                warn(prefix, f"expected one of the defined tiers ({', '.join(tiers)}) or a mapping, got {describe_value(raw)}",
                     f"use one of {', '.join(tiers)}", line_of([prefix]))
        elif isinstance(raw, dict):
            _check_block(raw, prefix, tiers, warn, line_of)
        _check_misspelled_block_keys(fm, warn, line_of)
        if qwen:
            _check_qwen(text, fm, placement, tiers, warn, line_of)
    elif qwen:
        reason = qwen_yaml.refusal(text)
        if reason:
            warn("(qwen)", f"Qwen Code {qwen_yaml.QWEN_VERSION} refuses this skill: {reason}",
                 "fix the frontmatter so both YAML and Qwen Code read it")
    return warnings


def _check_block(raw: dict[str, Any], prefix: str, tiers: list[str], warn: Any, line_of: Any) -> None:
    def f(*parts: str | int) -> str:
        return format_key_path([prefix, *parts])

    def ln(*parts: str | int) -> int | None:
        return line_of([prefix, *parts])  # type: ignore[no-any-return]

    tier_list = ", ".join(tiers)
    for key in raw:
        if key not in BLOCK_KEYS:
            guess = nearest(str(key), BLOCK_KEYS)
            warn(f(str(key)), f"unknown key {key!r} (likely a typo)",
                 (f"did you mean {guess!r}?" if guess else f"known keys: {', '.join(BLOCK_KEYS)}"), ln(str(key)))
    preferred = raw.get("preferred")
    if "preferred" not in raw:
        warn(f("preferred"), "missing preferred: the session default for the skill's role is used",
             f"add `preferred: <tier>` ({tier_list})", line_of([prefix]))
    elif preferred not in tiers:
        warn(f("preferred"), f"expected one of the defined tiers ({tier_list}), got {describe_value(preferred)}",
             f"use one of {tier_list}", ln("preferred"))
    if "acceptable" in raw:
        acc = raw["acceptable"]
        if not isinstance(acc, list):
            warn(f("acceptable"), f"expected a list of tiers, got {describe_value(acc)}",
                 "write it flow-style: `acceptable: [haiku, sonnet]`", ln("acceptable"))
        else:
            for i, t in enumerate(acc):
                if t not in tiers:
                    warn(f("acceptable", i), f"expected one of the defined tiers ({tier_list}), got {describe_value(t)}",
                         f"use one of {tier_list}", ln("acceptable", i))
            if preferred in tiers and preferred not in acc:
                warn(f("acceptable"), f"expected a list containing preferred ({preferred!r}), got {acc!r}",
                     f"add {preferred} to acceptable", ln("acceptable"))
    if "minimum" in raw:
        minimum = raw["minimum"]
        if minimum not in tiers:
            warn(f("minimum"), f"expected one of the defined tiers ({tier_list}), got {describe_value(minimum)}",
                 f"use one of {tier_list}", ln("minimum"))
        elif preferred in tiers and tiers.index(minimum) > tiers.index(preferred):
            warn(f("minimum"), f"expected minimum <= preferred in tier order ({' < '.join(tiers)}), "
                 f"got minimum {minimum!r} above preferred {preferred!r}",
                 "lower minimum or raise preferred", ln("minimum"))
    for key in ("allow_upgrade", "allow_downgrade"):
        if key in raw and not isinstance(raw[key], bool):
            warn(f(key), f"expected true or false, got {describe_value(raw[key])}",
                 f"write `{key}: true` or `{key}: false`", ln(key))
    if "reasoning_demand" in raw and raw["reasoning_demand"] not in REASONING_DEMANDS:
        warn(f("reasoning_demand"), f"expected one of {', '.join(REASONING_DEMANDS)}, got "
             f"{describe_value(raw['reasoning_demand'])}", f"use one of {', '.join(REASONING_DEMANDS)}",
             ln("reasoning_demand"))
    if "estimated_tokens" in raw and raw["estimated_tokens"] is not None:
        est = raw["estimated_tokens"]
        if not isinstance(est, dict):
            warn(f("estimated_tokens"), f"expected a mapping of ranges, got {describe_value(est)}",
                 "write `input: 2000-5000` etc. under it", ln("estimated_tokens"))
        else:
            for key, value in est.items():
                if key not in ESTIMATE_KEYS:
                    guess = nearest(str(key), ESTIMATE_KEYS)
                    warn(f("estimated_tokens", str(key)), f"unknown key {key!r} (likely a typo)",
                         f"did you mean {guess!r}?" if guess else f"known keys: {', '.join(ESTIMATE_KEYS)}",
                         ln("estimated_tokens", str(key)))
                    continue
                if parse_range(value) is None:
                    warn(f("estimated_tokens", key), f"expected N or N-M (N <= M), got {describe_value(value)}",
                         "write e.g. `2000-5000` or `3`", ln("estimated_tokens", key))
    if "conditions" in raw and raw["conditions"] is not None:
        conds = raw["conditions"]
        if not isinstance(conds, list):
            warn(f("conditions"), f"expected a list of conditions, got {describe_value(conds)}",
                 "write `- when: \"...\"` items with downgrade_to or hold_at", ln("conditions"))
            return
        for i, cond in enumerate(conds):
            if not isinstance(cond, dict):
                warn(f("conditions", i), f"expected a mapping with `when` and downgrade_to or hold_at, got "
                     f"{describe_value(cond)}", "write `- when: \"...\"` and `downgrade_to: <tier>`", ln("conditions", i))
                continue
            for key in cond:
                if key not in CONDITION_KEYS:
                    guess = nearest(str(key), CONDITION_KEYS)
                    warn(f("conditions", i, str(key)), f"unknown key {key!r} (likely a typo)",
                         f"did you mean {guess!r}?" if guess else f"known keys: {', '.join(CONDITION_KEYS)}",
                         ln("conditions", i, str(key)))
            when = cond.get("when")
            if not isinstance(when, (str, dict)) or not when:
                warn(f("conditions", i, "when"), "expected `when`: a description of the request (or a mapping of signals)",
                     "add `when: \"...\"`", ln("conditions", i))
            actions = [k for k in ("downgrade_to", "hold_at") if k in cond]
            if len(actions) != 1:
                warn(f("conditions", i), f"expected exactly one of downgrade_to / hold_at, got "
                     f"{'both' if actions else 'neither'}", "keep exactly one of downgrade_to / hold_at",
                     ln("conditions", i))
            for key in actions:
                if cond[key] not in tiers:
                    warn(f("conditions", i, key), f"expected one of the defined tiers ({tier_list}), got "
                         f"{describe_value(cond[key])}", f"use one of {tier_list}", ln("conditions", i, key))


def _check_qwen(text: str, fm: dict[str, Any], placement: str | None, tiers: list[str], warn: Any, line_of: Any) -> None:
    version = qwen_yaml.QWEN_VERSION
    try:
        loaded = qwen_yaml.parse_skill_content(text)
    except qwen_yaml.QwenRefusal as exc:
        field = "model" if isinstance(fm.get("model"), dict) or "model" in str(exc) else "(qwen)"
        fix = ("move the block to the portable placement `routing:` (`tierwise validate --fix --platform qwen`)"
               if isinstance(fm.get("model"), dict) else "fix the frontmatter so Qwen Code's parser accepts it")
        warn(field, f"Qwen Code {version} refuses this skill ({exc}); it would be silently missing", fix,
             line_of(["model"]) if field == "model" else None)
        return
    model = fm.get("model")
    qwen_model = loaded.get("model")
    if isinstance(model, dict) and isinstance(qwen_model, str):
        # a one-line flow mapping (`model: {preferred: haiku}`): Qwen's parser keeps it as a string
        warn("model", f"Qwen Code reads this `model:` mapping as the string {qwen_model!r} and sends it "
             "to its API as a model id",
             "move the block to the portable placement `routing:` (`tierwise validate --fix --platform qwen`)",
             line_of(["model"]))
    if isinstance(model, str) and model.strip() in tiers:
        warn("model", f"Qwen Code sends `model: {model.strip()}` to its API as a model id, not as a tier",
             f"write `routing: {model.strip()}` instead (`tierwise validate --fix --platform qwen`)", line_of(["model"]))
    qfm = loaded["frontmatter"]
    for key in ("name", "description"):
        ours = fm.get(key)
        theirs = qfm.get(key)
        if isinstance(ours, str) and qwen_yaml.js_string(theirs) != ours:
            warn(key, f"Qwen Code reads {key} as {qwen_yaml.js_string(theirs)!r}, YAML as {ours!r}",
                 "write it on one line; use double quotes (not single quotes or > / |) when quoting",
                 line_of([key]))


# --------------------------------------------------------------------------- --fix


_TOP_KEY = re.compile(r"^(model)(\s*:)(.*)$")


def fix_text(text: str, platform: str | None = None, path: str | None = None,
             tier_names: list[str] | None = None) -> tuple[str, list[str]]:
    """``(new_text, notes)``. Renames a ``model:`` mapping to ``routing:`` (indenting the
    block two more spaces when a line begins with exactly ``"  - "``), and with
    platform qwen a ``model: <tier>`` string to ``routing: <tier>``. Every other byte
    is kept."""
    tiers = list(tier_names or DEFAULT_TIERS)
    notes: list[str] = []
    try:
        parsed = parse_skill_text(text, path or "SKILL.md")
    except TierwiseError:
        return text, ["not fixed: the frontmatter does not parse"]
    fm = parsed["frontmatter"]
    model = fm.get("model")
    string_fix = isinstance(model, str) and model.strip() in tiers and is_qwen(platform, path)
    if not isinstance(model, dict) and not string_fix:
        return text, notes
    if "routing" in fm:
        return text, ["not fixed: both `model:` and `routing:` are present; merge them by hand"]
    lines = text.split("\n")
    first = lines[0].lstrip("\ufeff").rstrip("\r") if lines else ""
    if first.rstrip(" \t") != "---":
        return text, notes
    end = None
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r").rstrip(" \t") == "---":
            end = i
            break
    if end is None:
        return text, notes
    start = None
    for i in range(1, end):
        if _TOP_KEY.match(lines[i]):
            start = i
            break
    if start is None:
        return text, notes
    m = _TOP_KEY.match(lines[start])
    assert m is not None
    lines[start] = "routing" + m.group(2) + m.group(3)
    stop = start + 1
    while stop < end:
        body = lines[stop].rstrip("\r")
        if body.strip() == "" or body.startswith((" ", "\t")) or body.lstrip().startswith("#") and body[:1] in (" ", "\t"):
            stop += 1
            continue
        break
    block = range(start + 1, stop)
    if isinstance(model, dict) and any(lines[i].startswith("  - ") for i in block):
        for i in block:
            if lines[i].rstrip("\r").strip():
                lines[i] = "  " + lines[i]
        notes.append("indented the block two spaces so Qwen Code does not read `  - ` lines as a top-level list")
    notes.append("renamed `model:` to `routing:` (the portable placement)")
    return "\n".join(lines), notes


BLOCK_PLACEMENTS = ("routing", "model")


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _check_misspelled_block_keys(fm: dict[str, Any], warn: Any, line_of: Any) -> None:
    """A top-level key a typo away (edit distance <= 2) from ``routing`` / ``model``
    that holds a mapping is most likely the routing block under a misspelled key,
    which nothing reads."""
    for key, value in fm.items():
        if not isinstance(key, str) or key in BLOCK_PLACEMENTS or not isinstance(value, dict):
            continue
        distance, near = min((_edit_distance(key.lower(), k), k) for k in BLOCK_PLACEMENTS)
        if distance <= 2:
            warn(key, f"unknown top-level key {key!r} holds a mapping: likely a misspelled `{near}:` block, "
                 "which tierwise ignores",
                 f"did you mean {near!r}? rename {key!r} to {near!r}", line_of([key]))
