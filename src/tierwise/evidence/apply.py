"""Rewrite a skill's model block in place: only the values that change, every
other byte of SKILL.md kept (comments, quoting, order, line endings).

The block stays in the placement the skill already uses (docs/ARCHITECTURE.md):
``routing:`` (mapping or tier string), ``model:`` mapping, or ``model:`` tier
string. A string placement carries ``preferred`` only, so a recommended
``minimum`` is reported, not written, there. A skill without a block gets a
``routing:`` mapping (the portable placement) at the end of its frontmatter.
After the edit the frontmatter is parsed again and compared with the original:
anything but the intended keys changed and nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tierwise.hot.errors import InputError

_KEY_RE = r"^({key})(\s*:)(.*?)(\r?\n)?$"
_SCALAR_RE = re.compile(r"^(\s*)(\"[^\"]*\"|'[^']*'|[^\s#\"'\[{][^#]*?)(\s*(?:#.*)?)$")


def _split_frontmatter(text: str, file: str) -> tuple[int, int]:
    """(start, end) line indexes of the frontmatter body (between the ``---`` lines)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").lstrip("\ufeff").rstrip(" \t") != "---":
        raise InputError("SKILL.md has no YAML frontmatter (no leading `---` line)", file=file,
                         fix="start the file with a `---` frontmatter block holding name and description")
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n").rstrip(" \t") == "---":
            return 1, i
    raise InputError("the frontmatter has no closing `---` line", file=file, fix="close the frontmatter with `---`")


def _load(lines: list[str], file: str) -> dict[str, Any]:
    try:
        from tierwise.yamlschema import strict_safe_load

        data = strict_safe_load("".join(lines)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"the frontmatter is not valid YAML ({exc})", file=file,
                         fix="fix the YAML, then run --apply again") from exc
    if not isinstance(data, dict):
        raise InputError("the frontmatter is not a mapping", file=file, fix="write `key: value` lines")
    return data


def placement_of(data: dict[str, Any], order: list[str]) -> str | None:
    """The placement as ``skills.find_block`` reads it, with ``routing`` split into
    ``routing`` (mapping) and ``routing-string``."""
    from tierwise.modelblock import find_block

    raw, placement = find_block(data, order)
    if placement == "routing" and not isinstance(raw, dict):
        return "routing-string"
    return placement


def write_skill(path: str, text: str) -> None:
    """Atomic replace, keeping the file's mode."""
    from tierwise.hot.fileio import atomic_write

    atomic_write(path, text)


def _replace_scalar(line: str, value_part: str, new: str) -> str | None:
    """``value_part`` is the text after ``key:``; keep quotes, spacing and comment."""
    m = _SCALAR_RE.match(value_part)
    if not m:
        return None
    old = m.group(2)
    quoted = old[:1] in "\"'" and old[:1] == old[-1:] and len(old) >= 2
    token = f"{old[0]}{new}{old[0]}" if quoted else new
    return line[: len(line) - len(value_part) - len(_eol(line))] + m.group(1) + token + m.group(3) + _eol(line)


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _edit_list(value_part: str, keep: list[str], order: list[str]) -> str | None:
    m = re.match(r"^(\s*)\[(.*)\](\s*(?:#.*)?)$", value_part)
    if not m:
        return None
    return f"{m.group(1)}[{', '.join(keep)}]{m.group(3)}"


def apply_block(text: str, *, file: str, preferred: str | None, minimum: str | None,
                order: list[str]) -> tuple[str, list[str]]:
    """(new text, notes). ``order``: tier names cheapest first."""
    start, end = _split_frontmatter(text, file)
    lines = text.splitlines(keepends=True)
    body = lines[start:end]
    data = _load(body, file)
    placement = placement_of(data, order)
    eol = _eol(lines[0]) or "\n"
    notes: list[str] = []
    new_body = list(body)
    key = "routing" if placement in ("routing", "routing-string") else "model"
    if placement is None:
        add = [f"routing:{eol}"]
        if preferred:
            add.append(f"  preferred: {preferred}{eol}")
        if minimum:
            add.append(f"  minimum: {minimum}{eol}")
        if len(add) == 1:
            return text, ["nothing to apply"]
        new_body = body + add
        notes.append("no model block: added a `routing:` mapping (the portable placement)")
        expected_block: Any = {k: v for k, v in (("preferred", preferred), ("minimum", minimum)) if v}
    else:
        idx = next((i for i, ln in enumerate(body) if re.match(_KEY_RE.format(key=key), ln)), None)
        if idx is None:
            raise InputError(f"cannot find the `{key}:` line to edit", file=file, key=key,
                             fix=f"write `{key}:` at the start of a line (not inside a flow mapping)")
        head = re.match(_KEY_RE.format(key=key), body[idx])
        assert head is not None
        if placement.endswith("-string"):
            block_val = data[key]
            if preferred and preferred != block_val:
                repl = _replace_scalar(body[idx], head.group(3), preferred)
                if repl is None:
                    raise InputError(f"cannot rewrite the value of `{key}:` in place", file=file, key=key,
                                     fix=f"set `{key}: {preferred}` by hand")
                new_body[idx] = repl
            if minimum:
                notes.append(f"`{key}:` is a tier string (preferred only): the recommended minimum {minimum} is not "
                             f"written; use a `{key}:` mapping to keep a minimum")
            expected_block = preferred or block_val
        else:
            if head.group(3).strip() and not head.group(3).strip().startswith("#"):
                raise InputError(f"`{key}:` is a flow mapping on one line; --apply edits block mappings only",
                                 file=file, key=key, fix=f"write `{key}:` as an indented block mapping, or edit it "
                                 "by hand")
            end_child = idx + 1
            while end_child < len(body) and (not body[end_child].strip() or body[end_child][:1] in (" ", "\t")
                                             or body[end_child].lstrip().startswith("#")):
                end_child += 1
            indent = next((re.match(r"^[ \t]*", body[i]).group(0) for i in range(idx + 1, end_child)  # type: ignore[union-attr]
                           if body[i].strip() and not body[i].lstrip().startswith("#")), "  ")
            block = dict(data[key])
            insert_at = idx + 1
            for name, value in (("preferred", preferred), ("minimum", minimum)):
                if not value:
                    continue
                block[name] = value
                pat = re.compile(rf"^{re.escape(indent)}{name}(\s*:)(.*?)(\r?\n)?$")
                line_no = next((i for i in range(idx + 1, end_child) if pat.match(new_body[i])), None)
                if line_no is None:
                    new_body.insert(insert_at, f"{indent}{name}: {value}{eol}")
                    end_child += 1
                    insert_at += 1
                    continue
                m = pat.match(new_body[line_no])
                assert m is not None
                if data[key].get(name) != value:
                    repl = _replace_scalar(new_body[line_no], m.group(2), value)
                    if repl is None:
                        raise InputError(f"cannot rewrite `{key}.{name}` in place", file=file, key=f"{key}.{name}",
                                         fix=f"set `{name}: {value}` by hand")
                    new_body[line_no] = repl
                insert_at = line_no + 1
            acc = data[key].get("acceptable")
            if isinstance(acc, list) and (preferred or minimum):
                low = order.index(block.get("minimum") or minimum or order[0]) if (block.get("minimum") or minimum) \
                    in order else 0
                keep = [t for t in acc if t in order and order.index(t) >= low]
                if preferred and preferred not in keep:
                    keep.append(preferred)
                keep.sort(key=order.index)
                if keep != acc:
                    pat = re.compile(rf"^{re.escape(indent)}acceptable(\s*:)(.*?)(\r?\n)?$")
                    line_no = next((i for i in range(idx + 1, end_child) if pat.match(new_body[i])), None)
                    m = pat.match(new_body[line_no]) if line_no is not None else None
                    edited = _edit_list(m.group(2), keep, order) if m else None
                    if line_no is None or m is None or edited is None:
                        raise InputError(f"`{key}.acceptable` ({', '.join(map(str, acc))}) must become "
                                         f"[{', '.join(keep)}] but is not a one-line [..] list", file=file,
                                         key=f"{key}.acceptable",
                                         fix=f"write it as `acceptable: [{', '.join(keep)}]` by hand, then --apply")
                    new_body[line_no] = new_body[line_no][: len(new_body[line_no]) - len(m.group(2))
                                                          - len(_eol(new_body[line_no]))] + edited \
                        + _eol(new_body[line_no])
                    block["acceptable"] = keep
                    notes.append(f"acceptable: [{', '.join(map(str, acc))}] -> [{', '.join(keep)}]")
            expected_block = block
    check = _load(new_body, file)
    out_key = "routing" if placement is None else key
    others_same = {k: v for k, v in check.items() if k != out_key} == {k: v for k, v in data.items() if k != out_key}
    if check.get(out_key) != expected_block or not others_same:
        raise InputError("the in-place edit did not produce the intended block; nothing was written", file=file,
                         key=out_key, fix="edit the block by hand (and report this case)")
    return "".join(lines[:start] + new_body + lines[end:]), notes
