"""Render the packaged skill templates into new SKILL.md files (`tierwise new`).

The templates (``templates/skill/SKILL.md``, ``templates/skill-suite/SKILL.md``,
shipped as ``tierwise/data/templates``) are themselves valid skills, so
``tierwise validate templates`` checks them like any other. Rendering is plain
text work, no template engine:

* **frontmatter**: the values of ``name:``, ``description:`` and of the routing
  block's ``preferred:``, ``acceptable:``, ``minimum:`` and ``reasoning_demand:``
  lines are replaced, line by line; every other line stays as written;
* **body**: each ``{{placeholder}}`` is replaced by its value; an unknown
  placeholder is an error, so a template and this module cannot drift apart.

Cold module (CLI only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tierwise.hot.errors import InputError, UnsafePathError, UsageError

NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
_NAME_RE = re.compile(rf"\A{NAME_PATTERN}\Z")
_PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_FRONTMATTER_RE = re.compile(r"\A---\n(.*?\n)---\n(.*)\Z", re.S)
REASONING_DEMANDS = ("low", "medium", "high", "variable")
MAX_DESCRIPTION = 1024

SPECIALIST_TEMPLATE = "skill"
COORDINATOR_TEMPLATE = "skill-suite"


def data_dir() -> Path:
    return Path(__file__).resolve().parent / "data"


def templates_dir() -> Path:
    return data_dir() / "templates"


def skills_dir() -> Path:
    """The example skill suite shipped with the package."""
    return data_dir() / "skills"


def check_name(name: str, what: str = "skill name") -> str:
    """A skill name that is safe as one folder name in every skill root.

    Lowercase letters, digits and single hyphens inside, at most 64
    characters (what Claude Code accepts; a subset of what Qwen Code accepts).
    """
    if not isinstance(name, str) or not name:
        raise UsageError(f"empty {what}", key=what, fix="give a name such as `css-layout-debugger`")
    if "/" in name or "\\" in name or ".." in name or "\x00" in name or name in (".", "~") or name.startswith("~"):
        raise UnsafePathError(
            f"{what} {name!r} would leave the skill folder",
            key=what,
            fix="use a plain name: lowercase letters, digits and hyphens, no path separators or `..`",
        )
    if not _NAME_RE.match(name) or "--" in name:
        raise UsageError(
            f"{what} {name!r} is not a valid skill name",
            key=what,
            fix="use 1-64 lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
        )
    return name


def check_description(text: str) -> str:
    """One line, no backslashes or control characters: the same string in YAML,
    Claude Code and Qwen Code's line-based frontmatter parser."""
    stripped = text.strip()
    if not stripped:
        raise UsageError("empty description", key="description", fix="say in one line what the skill does")
    if len(stripped) > MAX_DESCRIPTION:
        raise UsageError(
            f"description is {len(stripped)} characters long",
            key="description",
            fix=f"keep it to one line of at most {MAX_DESCRIPTION} characters",
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in stripped) or "\\" in stripped:
        raise UsageError(
            "description must be one line without backslashes or control characters",
            key="description",
            fix="Qwen Code reads only single-line descriptions; put details in the skill body",
        )
    return stripped


def yaml_line_value(text: str) -> str:
    """``text`` as a one-line YAML scalar that Qwen Code's parser reads the same way:
    plain when that is unambiguous, else double-quoted (only ``"`` needs escaping,
    :func:`check_description` having ruled out backslashes and control characters)."""
    plain_ok = (
        text == text.strip()
        and text[:1] not in set("!&*[]{}|>'\"%@`#,?:-")
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~")
        and not re.fullmatch(r"[-+.\d_eE]+", text)
    )
    if plain_ok:
        return text
    return '"' + text.replace('"', '\\"') + '"'


def title_of(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("-") if part)


@dataclass(frozen=True)
class Tiering:
    preferred: str
    minimum: str
    acceptable: tuple[str, ...]
    reasoning_demand: str


def plan_tiering(
    tier_names: Sequence[str],
    preferred: str,
    minimum: str | None,
    reasoning: str | None,
) -> Tiering:
    """Check a requested tier / minimum / reasoning demand against the configured
    tiers (cheapest first) and fill in what was not given.

    Defaults: minimum one tier below preferred (preferred itself when it is the
    cheapest); acceptable every tier from minimum to one above preferred (the
    upgrade step); reasoning demand low for the
    cheapest tier, high for the most capable, medium between.
    """
    order = list(tier_names)
    if preferred not in order:
        raise UsageError(
            f"unknown tier {preferred!r}",
            key="--tier",
            fix=f"use one of the configured tiers: {', '.join(order)}",
        )
    p = order.index(preferred)
    if minimum is None:
        minimum = order[max(p - 1, 0)]
    elif minimum not in order:
        raise UsageError(
            f"unknown tier {minimum!r}",
            key="--minimum",
            fix=f"use one of the configured tiers: {', '.join(order)}",
        )
    m = order.index(minimum)
    if m > p:
        raise UsageError(
            f"minimum {minimum!r} is above preferred {preferred!r}",
            key="--minimum",
            fix=f"choose a minimum at or below {preferred} ({', '.join(order[: p + 1])})",
        )
    if reasoning is None:
        reasoning = "low" if p == 0 else "high" if p == len(order) - 1 else "medium"
    elif reasoning not in REASONING_DEMANDS:
        raise UsageError(
            f"unknown reasoning demand {reasoning!r}",
            key="--reasoning",
            fix=f"use one of: {', '.join(REASONING_DEMANDS)}",
        )
    return Tiering(preferred, minimum, tuple(order[m : p + 2]), reasoning)


def read_template(kind: str, root: Path | None = None) -> tuple[Path, str]:
    path = (root or templates_dir()) / kind / "SKILL.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            "template not found",
            file=str(path),
            fix="reinstall tierwise (the package ships templates/ under tierwise/data/templates)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read template: {exc}", file=str(path)) from None
    return path, text


_FRONTMATTER_KEYS: dict[str, tuple[str, str]] = {
    # key -> (line prefix in the template, what it holds)
    "name": ("name:", "top-level"),
    "description": ("description:", "top-level"),
    "preferred": ("  preferred:", "routing"),
    "acceptable": ("  acceptable:", "routing"),
    "minimum": ("  minimum:", "routing"),
    "reasoning_demand": ("  reasoning_demand:", "routing"),
}


def render(template_path: Path, text: str, frontmatter: dict[str, str], placeholders: dict[str, str]) -> str:
    """Fill a template: frontmatter values by key (see the module docstring), body
    ``{{placeholders}}`` by name. ``frontmatter`` values are already YAML text."""
    match = _FRONTMATTER_RE.match(text.replace("\r\n", "\n"))
    if not match:
        raise InputError("template has no `---` frontmatter", file=str(template_path))
    head, body = match.group(1), match.group(2)
    lines = head.split("\n")
    in_routing = False
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line and not line.startswith((" ", "#")):
            in_routing = line.startswith("routing:")
        for key, (prefix, where) in _FRONTMATTER_KEYS.items():
            if key in frontmatter and line.startswith(prefix + " ") and (where == "routing") == in_routing:
                lines[i] = f"{prefix} {frontmatter[key]}"
                seen.add(key)
    missing = sorted(set(frontmatter) - seen)
    if missing:
        raise InputError(
            f"template lacks the frontmatter line(s) for {', '.join(missing)}",
            file=str(template_path),
            fix="keep `name:`, `description:` and the `routing:` block's preferred/acceptable/minimum/"
            "reasoning_demand lines in the template",
        )

    def fill(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in placeholders:
            raise InputError(
                f"unknown placeholder {{{{{key}}}}}",
                file=str(template_path),
                fix=f"use one of: {', '.join('{{' + k + '}}' for k in sorted(placeholders))}",
            )
        return placeholders[key]

    return "---\n" + "\n".join(lines) + "---\n" + _PLACEHOLDER_RE.sub(fill, body)


def _frontmatter_values(name: str, description: str, tiering: Tiering) -> dict[str, str]:
    """The frontmatter lines both templates fill: name, description and the routing block."""
    return {
        "name": name,
        "description": yaml_line_value(description),
        "preferred": tiering.preferred,
        "acceptable": _flow_list(tiering.acceptable),
        "minimum": tiering.minimum,
        "reasoning_demand": tiering.reasoning_demand,
    }


def _flow_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


def degradation_text(tier_names: Sequence[str], tiering: Tiering) -> str:
    """The §6.4 "Degradation Adaptations" section body for a specialist."""
    order = list(tier_names)
    p = order.index(tiering.preferred)
    m = order.index(tiering.minimum)
    higher = order[p + 1] if p + 1 < len(order) else None
    if p == m:
        if p == 0:
            return (
                f"This skill's default tier is also its floor ({tiering.preferred}); it never runs lower.\n"
                "When a request needs judgement beyond mechanical steps, list what could not be\n"
                "resolved (file, line, why) instead of guessing"
                + (f", so the coordinator can offer a rerun at {higher}." if higher else ".")
            )
        return (
            f"Minimum equals preferred ({tiering.preferred}): this skill never runs lower. Under budget\n"
            "pressure the coordinator keeps it at this tier or asks the user to wait for the budget reset."
        )
    lower = order[p - 1]
    if p - 1 == 0:
        bullets = [
            "Reduce every step to mechanical instructions: no judgement calls.",
            "Match exact patterns (listed strings, regexes, file names) rather than descriptions.",
            "Use scripts or single commands for any logic that needs several reasoning steps.",
            "Output structured data only (the Output fields), no prose analysis.",
            f"Anything that needs judgement goes back to the coordinator as `needs: {tiering.preferred}`.",
        ]
    else:
        bullets = [
            f"Follow an explicit checklist in Step 2 ({tiering.preferred} infers it; {lower} benefits from it).",
            "Compare with 2-3 examples of similar past cases and their causes before concluding.",
            "Break the analysis into small sequential steps and check each against the code.",
            "Add a verification checkpoint before the report; mark the result `confidence: medium`.",
        ]
    return f"When running at {lower} instead of {tiering.preferred}:\n" + "\n".join(f"- {b}" for b in bullets)


def render_specialist(
    name: str,
    description: str,
    tier_names: Sequence[str],
    tiering: Tiering,
    template_root: Path | None = None,
) -> str:
    path, text = read_template(SPECIALIST_TEMPLATE, template_root)
    order = list(tier_names)
    p = order.index(tiering.preferred)
    higher = order[p + 1] if p + 1 < len(order) else f"{tiering.preferred}, the top tier: ask the user"
    return render(
        path,
        text,
        _frontmatter_values(name, description, tiering),
        {
            "name": name,
            "title": title_of(name),
            "description": description,
            "preferred": tiering.preferred,
            "minimum": tiering.minimum,
            "cheapest": order[0],
            "higher_tier": higher,
            "degradation": degradation_text(order, tiering),
        },
    )


@dataclass(frozen=True)
class SpecialistRow:
    name: str
    path: str  # as written in the routing table, ending in "/"
    tiering: Tiering


def routing_table_rows(tier_names: Sequence[str], rows: Sequence[SpecialistRow]) -> str:
    order = list(tier_names)
    out = []
    for row in rows:
        p = order.index(row.tiering.preferred)
        trigger = (
            f"Specialist reports its upgrade trigger → {order[p + 1]}" if p + 1 < len(order) else "none (top tier)"
        )
        out.append(f"| {row.name} | {row.path} | {row.tiering.preferred} | {trigger} | {row.tiering.minimum} |")
    return "\n".join(out)


def render_coordinator(
    name: str,
    description: str,
    tier_names: Sequence[str],
    tiering: Tiering,
    specialists: Sequence[SpecialistRow],
    template_root: Path | None = None,
) -> str:
    if not specialists:
        raise UsageError("a suite needs at least one specialist", key="--specialists", fix="--specialists a,b,c")
    path, text = read_template(COORDINATOR_TEMPLATE, template_root)
    first = specialists[0]
    classification = "\n".join(
        f"  - the request fits {row.name}'s description → {row.name}" for row in specialists
    )
    return render(
        path,
        text,
        _frontmatter_values(name, description, tiering),
        {
            "name": name,
            "title": title_of(name),
            "description": description,
            "minimum": tiering.minimum,
            "routing_table_rows": routing_table_rows(tier_names, specialists),
            "classification_rows": classification,
            "first_specialist": first.name,
            "first_tier": first.tiering.preferred,
            "first_path": first.path,
        },
    )


def example_suite(root: Path | None = None) -> list[tuple[str, str]]:
    """``(name, SKILL.md text)`` of every skill of the shipped frontend-QA suite,
    coordinator first."""
    base = root or skills_dir()
    try:
        folders = sorted(p for p in base.iterdir() if (p / "SKILL.md").is_file())
    except OSError as exc:
        raise InputError(f"cannot list the example suite: {exc}", file=str(base),
                         fix="reinstall tierwise (it ships skills/ under tierwise/data/skills)") from None
    if not folders:
        raise InputError("the example suite is missing", file=str(base),
                         fix="reinstall tierwise (it ships skills/ under tierwise/data/skills)")
    out = [(p.name, (p / "SKILL.md").read_text(encoding="utf-8")) for p in folders]
    out.sort(key=lambda item: (not item[0].endswith("-coordinator"), item[0]))
    for name, _ in out:
        check_name(name)
    return out


def table_path(skill_dir: Path, project: Path) -> str:
    """How the routing table names a skill folder: relative to the project when
    inside it (``.claude/skills/NAME/``), else absolute; always ending in ``/``."""
    try:
        rel = skill_dir.resolve().relative_to(project.resolve())
        text = rel.as_posix()
    except ValueError:
        text = skill_dir.resolve().as_posix()
    return text.rstrip("/") + "/"


def target_path(skills_root: Path, name: str) -> Path:
    """``skills_root/NAME/SKILL.md``, refusing a NAME folder that is a symlink
    (it could point anywhere)."""
    check_name(name)
    folder = skills_root / name
    if folder.is_symlink():
        raise UnsafePathError(
            "skill folder is a symlink; tierwise new does not write through it",
            file=str(folder),
            fix="remove the link or choose another --dir",
        )
    return folder / "SKILL.md"


def check_writable(targets: Sequence[Path], force: bool) -> None:
    """Refuse before writing anything when a target exists (unless ``force``)."""
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing and not force:
        raise UsageError(
            f"{len(existing)} skill file(s) already exist: {', '.join(str(t) for t in existing)}",
            file=str(existing[0]),
            fix="choose another name, or pass --force to overwrite",
        )
    for t in targets:
        if t.is_dir() and not t.is_symlink():
            raise UsageError("SKILL.md is a directory", file=str(t), fix="remove it or choose another name")
        if t.is_symlink():
            raise UnsafePathError(
                "SKILL.md is a symlink; tierwise new does not write through it",
                file=str(t),
                fix="remove the link first",
            )


def write_file(path: Path, text: str) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a skill."""
    from tierwise.hot.fileio import atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create the skill folder: {exc.strerror or exc}",
            file=str(path.parent),
            fix="check the folder's permissions or choose another --dir",
        ) from None
    try:
        atomic_write(str(path), text, make_dirs=False)
    except OSError as exc:
        raise UsageError(
            f"cannot write SKILL.md: {exc.strerror or exc}",
            file=str(path),
            fix="check the folder's permissions and free space, or choose another --dir",
        ) from None
