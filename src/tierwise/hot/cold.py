"""The one door from the hot set into cold modules.

A hook imports only the standard library and ``tierwise.hot`` (docs/ARCHITECTURE.md),
except for three jobs it must do itself: rebuild the compiled config + skill
cache when it is missing or stale (YAML, JSON Schema), build the price table
at SessionStart when there is none (genai-prices), check the frontmatter
of a SKILL.md the agent just wrote, and print ``tierwise hook --help`` (argparse). Each function here imports its cold module
inside, so a hook that does not come through this door pays nothing for it.
tests/test_hot_imports.py lets only this module reach outside the hot set.
"""

from __future__ import annotations

import sys

# Installed hooks start without `site` (python -S, install/hooks.py): the cold modules' dependencies
# (YAML, JSON Schema, genai-prices) live in site-packages, so coming through this door adds them.
if sys.flags.no_site:
    import site

    site.main()

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def config_layer_paths(project_dir: str, platform: str) -> list[str]:
    """The config files the resolved config is read from (stamped before reading them)."""
    from tierwise import config

    return [path for _layer, path, _schema in config.layer_paths(project_dir, platform)]


def resolve_config(project_dir: str, platform: str) -> dict[str, Any]:
    from tierwise import config

    return config.resolve(project_dir, platform)


def resolve_config_isolated(project_dir: str, platform: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The resolved config with every broken value or file left out, and the problems."""
    from tierwise import config

    return config.resolve_isolated(project_dir, platform)


def discover_skills(project_dir: str, platform: str, resolved: dict[str, Any],
                    stamp: Callable[[str], Any]) -> dict[str, Any]:
    from tierwise import skills

    return skills.discover(project_dir, platform, resolved, stamp=stamp)


def ensure_price_table() -> None:
    from tierwise import prices

    prices.ensure_table()


def check_frontmatter(text: str, path: str, platform: str) -> list[Any]:
    from tierwise.frontmatter_check import check_text

    return list(check_text(text, path, platform))


def print_hook_help() -> None:
    from tierwise.hook_parser import standalone_parser

    standalone_parser().print_help()
