"""``tierwise validate [PATH...]``: check_frontmatter (spec §7.2, Warn tier) over
SKILL.md files, plus the project's routing config layers (every problem, as the
hooks would leave it out) and the ledger (SQLite's quick_check) when no PATH is given.

Findings are data: on stdout (breadcrumbs, or ``--json``). Notes go to stderr.
Exit 0 with warnings unless ``--strict`` (then 1); an unusable input file or
config exits with its documented code (docs/exit-codes.md) after every file is
reported.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from tierwise.output import add_json_option, add_platform_option, add_project_option

if TYPE_CHECKING:
    from tierwise.hot.errors import TierwiseError

SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".e2e-cache", ".mypy_cache", ".pytest_cache"}


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = sub.add_parser(
        "validate",
        help="check SKILL.md routing blocks (and the project's routing config)",
        description="Check SKILL.md routing blocks (spec §7.2, Warn tier). PATHs are SKILL.md files or "
        "directories searched for SKILL.md; without PATH, the project's skill roots, its routing config layers "
        "(every problem) and the ledger (a corrupt one is named, with the fix).",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="SKILL.md files or directories")
    add_json_option(parser, "print findings as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    add_platform_option(parser, "client whose rules apply (default: claude; files under .qwen/ get qwen rules)",
                        default=None)
    parser.add_argument("--fix", action="store_true",
                        help="rewrite a `model:` mapping (and, for qwen, a `model: <tier>` string) into `routing:`")
    add_project_option(parser)
    parser.set_defaults(func=run)


def collect(paths: list[str]) -> list[str]:
    """SKILL.md files under the given paths; a path that is not a directory is kept
    as a file (reading it reports what is wrong: missing, symlink loop, ...)."""
    return list(collect_with_roots(paths))


def collect_with_roots(paths: list[str]) -> dict[str, str]:
    """``{SKILL.md file: the root it was found under}``: the named directory, or
    for a file named on its own, its folder. ``--fix`` never writes outside it."""
    files: dict[str, str] = {}
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):  # symlinked folders are not entered
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                if "SKILL.md" in filenames:
                    files.setdefault(os.path.join(dirpath, "SKILL.md"), p)
        else:
            files.setdefault(p, os.path.dirname(os.path.abspath(p)))
    return files


def config_schema_for(path: str) -> str:
    """Which schema a config file named on the command line is checked against."""
    name = os.path.basename(path)
    if name.startswith("session-config"):
        return "session-config"
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return "project-routing" if parent in (".claude", ".qwen") else "model-routing"



def _file_error(entry: dict[str, Any], exc: TierwiseError, report: list[dict[str, Any]], field: str | None = None) -> int:
    """Record a file that could not be checked (or fixed) in the report; its exit code."""
    entry["error"] = exc.as_dict()
    entry["warnings"].append({"field": field or exc.key or "(file)", "message": exc.message, "fix": exc.fix})
    report.append(entry)
    return int(exc.exit_code)

def run(args: argparse.Namespace) -> int:
    from tierwise import config as cfg
    from tierwise import frontmatter_check as fc
    from tierwise.hot import paths as tpaths
    from tierwise import skills
    from tierwise.hot.errors import EXIT_FINDINGS, EXIT_OK, TierwiseError

    project = os.path.abspath(args.project) if args.project else tpaths.project_dir()
    platform = args.platform or "claude"
    resolved = None
    config_checked: list[str] = []
    problems: list[dict[str, Any]] = []
    config_problems: list[dict[str, Any]] = []
    if not args.paths:
        # every broken value and file is reported (a broken packaged default: ConfigError -> exit 3)
        resolved, config_problems = cfg.resolve_isolated(project, platform)
        config_checked = [s["path"] for s in resolved["sources"]]
        config_checked += [p["path"] for p in config_problems if p["path"] not in config_checked]
        roots = [r["root"] for r in skills.skill_roots(project, platform) if r["scope"] in ("project", "user")]
        file_roots = collect_with_roots([r for r in roots if os.path.isdir(r)])
        files = list(file_roots)
        # what a walk does not show: looping or escaping skill folders, unreadable roots
        for problem in skills.discover(project, platform, resolved)["problems"]:
            inside = any(problem["path"] == r or problem["path"].startswith(r + os.sep) for r in roots)
            if inside and problem["path"] not in files:
                problems.append(problem)
    else:
        file_roots = collect_with_roots(args.paths)
        files = list(file_roots)
        if os.path.isdir(project):
            try:
                resolved = cfg.resolve(project, platform)
            except TierwiseError as exc:
                print(f"note: using the default tiers; the project config has a problem:\n{exc.render()}",
                      file=sys.stderr)
    tier_names = [t["name"] for t in resolved["tiers"]] if resolved else None

    from tierwise.clients.claude import forks as claude_forks

    report: list[dict[str, Any]] = []
    copies: list[str] = []
    exit_code = EXIT_OK
    for problem in config_problems:
        report.append({
            "path": problem["path"],
            "warnings": [{"field": problem.get("key") or "(file)", "message": problem["message"],
                          "fix": problem.get("fix")}],
            "error": problem,
        })
        exit_code = max(exit_code, int(problem.get("exit_code") or EXIT_OK))
    if not args.paths:
        ledger_problem = check_ledger()
        if ledger_problem is not None:
            report.append(ledger_problem)
            exit_code = max(exit_code, int(ledger_problem["error"]["exit_code"]))
    if resolved is not None and (cfg._platform(platform) == "codex"):
        from tierwise.clients.codex.catalog import unknown_model_warnings

        found = unknown_model_warnings(resolved)
        if found:
            report.append({"path": resolved["sources"][-1]["path"] if resolved.get("sources") else "model-routing.yaml",
                           "warnings": found})
    for problem in problems:
        report.append({
            "path": problem["path"],
            "warnings": [{"field": "(file)", "message": problem["message"], "fix": problem.get("fix")}],
            "error": problem,
        })
        exit_code = max(exit_code, int(problem.get("exit_code") or EXIT_OK))
    for path in files:
        entry: dict[str, Any] = {"path": path, "warnings": []}
        if path.endswith((".yaml", ".yml")):
            # a routing config layer named on the command line
            try:
                cfg.load_layer("file", path, config_schema_for(path))
                config_checked.append(path)
            except TierwiseError as exc:
                exit_code = max(exit_code, _file_error(entry, exc, report))
            continue
        try:
            # without PATH, the file's real location must stay inside its skill root
            # (UnsafePathError, exit 5): a symlinked SKILL.md is neither read nor fixed
            text = skills.read_skill_text(path, None if args.paths else file_roots[path])
        except TierwiseError as exc:
            exit_code = max(exit_code, _file_error(entry, exc, report, field="(file)"))
            continue
        if claude_forks.markers(text).get(claude_forks.MARKER):
            copies.append(path)  # a forked copy tierwise wrote (enforce: fork): its skill is checked
            continue
        if args.fix:
            new_text, notes = fc.fix_text(text, args.platform, path, tier_names)
            if new_text != text:
                try:
                    _write_same_bytes(path, new_text, file_roots[path])
                except TierwiseError as exc:
                    exit_code = max(exit_code, _file_error(entry, exc, report, field="(file)"))
                    continue
                text = new_text
                entry["fixed"] = notes
                print(f"fixed {path}: {'; '.join(notes)}", file=sys.stderr)
            elif notes:
                print(f"{path}: {'; '.join(notes)}", file=sys.stderr)
        entry["warnings"] = fc.check_text(text, path, args.platform, tier_names)
        report.append(entry)

    total = sum(len(e["warnings"]) for e in report)
    if args.json:
        from tierwise.output import print_json

        out: dict[str, Any] = {"files": report}
        if config_checked:
            out["config"] = config_checked
        print_json(out)
    else:
        for e in report:
            for w in e["warnings"]:
                key = None if w["field"] == "(file)" else w["field"]
                # findings are data (stdout), in the same breadcrumbs as an error
                print(TierwiseError(w["message"], file=e["path"], key=key, fix=w.get("fix")).render() + "\n")
    with_findings = sum(1 for e in report if e["warnings"])
    print(
        f"checked {sum(1 for f in files if not f.endswith(('.yaml', '.yml'))) - len(copies)} SKILL.md file(s)"
        + (f" (and skipped {len(copies)} forked cop{'y' if len(copies) == 1 else 'ies'} tierwise wrote)"
           if copies else "")
        + (f", {len(problems)} unusable skill folder(s)" if problems else "")
        + (f" and {len(config_checked)} config layer(s)" if config_checked else "")
        + f": {total} warning(s) in {with_findings} file(s)",
        file=sys.stderr,
    )
    if not args.paths and not [f for f in files if not f.endswith((".yaml", ".yml"))] and not problems:
        _say_where_skills_go(project, platform)
    if exit_code != EXIT_OK:
        return exit_code
    if args.strict and total:
        return EXIT_FINDINGS
    return EXIT_OK


def _say_where_skills_go(project: str, platform: str) -> None:
    """No skill in the client's roots: say where they go, and which other client has some."""
    from tierwise import skills
    from tierwise.clients import CLIENTS

    roots = [r["root"] for r in skills.skill_roots(project, platform) if r["scope"] in ("project", "user")]
    found = None
    for other in (c for c in CLIENTS if c != platform):
        theirs = [r["root"] for r in skills.skill_roots(project, other) if r["scope"] == "project"]
        if collect([r for r in theirs if os.path.isdir(r)]):
            found = other
            break
    print(f"note: no SKILL.md in {platform}'s skill roots ({', '.join(roots)}); "
          f"`tierwise new example --platform {platform}` copies the example suite there"
          + (f"; the project has skills for {found}: `tierwise validate --platform {found}`" if found else ""),
          file=sys.stderr)


def check_ledger() -> dict[str, Any] | None:
    """A report entry when the ledger exists and is corrupt (SQLite's quick_check);
    None when it is fine or absent. Spooled records waiting for it are noted on stderr."""
    import sqlite3

    from tierwise.hot import paths as tpaths
    from tierwise.hot.ledger import db, record
    from tierwise.hot.ledger.trouble import ledger_error

    waiting = len(record.spool_files())
    if waiting:
        print(f"note: {waiting} spool file(s) in {tpaths.spool_dir()} wait to be written to the ledger "
              "(the next hook or command that opens it replays them)", file=sys.stderr)
    path = tpaths.ledger_path()
    if not os.path.exists(path):
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
        trouble: BaseException | None = None
        if rows != [("ok",)]:
            trouble = sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(str(r[0]) for r in rows[:3]))
    except sqlite3.Error as exc:
        trouble = exc
    if trouble is None:
        return None
    if db.is_lock_error(trouble):
        print(f"note: the ledger {path} is locked by another process; not checked", file=sys.stderr)
        return None
    err = ledger_error(trouble, path)
    return {"path": path, "warnings": [{"field": "(ledger)", "message": err.message, "fix": err.fix}],
            "error": err.as_dict()}


def _write_same_bytes(path: str, text: str, root: str) -> None:
    """Write back with the original encoding choices (UTF-8, BOM kept), through a
    symlink only when its target is inside ``root`` (else UnsafePathError)."""
    from tierwise.hot.errors import StateError, UnsafePathError

    real = os.path.realpath(path)  # a symlinked SKILL.md stays a symlink
    real_root = os.path.realpath(root)
    if not (real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)):
        raise UnsafePathError(
            f"not fixed: the file resolves to {real}, outside {real_root}",
            file=path,
            fix="--fix writes only inside the skill root; run it on the real file, or replace the symlink with the file",
        )
    with open(path, "rb") as fh:
        bom = fh.read(3) == b"\xef\xbb\xbf"
    data = text.encode("utf-8")
    if bom and not data.startswith(b"\xef\xbb\xbf"):
        data = b"\xef\xbb\xbf" + data
    from tierwise.hot.fileio import atomic_write

    try:
        atomic_write(real, data)  # keeps the file's permissions
    except OSError as exc:
        raise StateError(f"not fixed: cannot write the file ({exc.strerror or exc})", file=path,
                         fix="check the file's folder is writable and the disk has space") from None
