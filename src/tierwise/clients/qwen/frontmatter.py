"""What Qwen Code 0.15.10 makes of a SKILL.md: a faithful port of its frontmatter
parser and of the checks that make it refuse a skill.

Ported from the bundled ``cli.js`` of ``@qwen-code/qwen-code`` 0.15.10:
``packages/core/src/utils/yaml-parser.ts`` (``parse`` / ``parseValue``),
``packages/core/src/skills/types.ts`` (``parseModelField``, ``parsePathsField``,
``validateSkillName``), ``packages/core/src/skills/skill-manager.ts``
(``parseSkillContent``, ``validateConfig``) and ``textUtils.normalizeContent``.

Qwen's parser is a line-based YAML subset, not YAML: a top-level key followed by
indented lines becomes a flat object (deeper nesting is flattened), ``  - x``
lines make an array, values are ``true``/``false``/``null``/numbers/strings,
double quotes are stripped, single quotes and inline comments stay in the value.
A refused skill is silently missing in Qwen Code ("Skill X not found").

Cold module (used by validate and the frontmatter hook).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

QWEN_VERSION = "0.15.10"

# ECMAScript String.prototype.trim: WhiteSpace + LineTerminator
_JS_WS = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

_FRONTMATTER = re.compile(r"\A---\n(.*?)\n---(?:\n|\Z)(.*)\Z", re.S)
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


class QwenRefusal(Exception):
    """Qwen Code would refuse the skill with this message."""


def js_trim(text: str) -> str:
    return text.strip(_JS_WS)


def js_number(text: str) -> float | None:
    """ECMAScript ``Number(string)``; None for NaN."""
    s = js_trim(text)
    if s == "":
        return 0.0
    if s in ("Infinity", "+Infinity"):
        return math.inf
    if s == "-Infinity":
        return -math.inf
    if _DECIMAL.fullmatch(s):
        try:
            return float(s)
        except (ValueError, OverflowError):
            return math.inf
    if _RADIX.fullmatch(s):
        return float(int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()]))
    return None


def js_string(value: Any) -> str:
    """ECMAScript ``String(value)`` for the values this parser produces."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def normalize_content(content: str) -> str:
    if content.startswith("\ufeff"):
        content = content[1:]
    return content.replace("\r\n", "\n").replace("\r", "\n")


def parse_value(value: str) -> Any:
    if value == "true":
        return True
    if value == "false":
        return False
    if value == "null":
        return None
    if value == "":
        return ""
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    num = js_number(value)
    if num is not None and math.isfinite(num):
        return num
    return value


def parse(yaml_string: str) -> dict[str, Any]:
    """Port of Qwen Code's ``parse(yamlString)`` (utils/yaml-parser.ts)."""
    lines = [ln for ln in yaml_string.split("\n") if js_trim(ln) and not js_trim(ln).startswith("#")]
    result: dict[str, Any] = {}
    current_key = ""
    current_array: list[Any] = []
    in_array = False
    current_object: dict[str, Any] = {}
    in_object = False
    object_key = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("  - "):
            if not in_array:
                in_array = True
                current_array = []
            current_array.append(parse_value(js_trim(line[4:])))
            i += 1
            continue
        if in_array and not line.startswith("  - "):
            result[current_key] = current_array
            in_array = False
            current_array = []
            current_key = ""
        if line.startswith("  ") and in_object:
            key, *value_parts = js_trim(line).split(":")
            current_object[js_trim(key)] = parse_value(js_trim(":".join(value_parts)))
            i += 1
            continue
        if in_object and not line.startswith("  "):
            result[object_key] = current_object
            in_object = False
            current_object = {}
            object_key = ""
        if ":" in line:
            key, *value_parts = line.split(":")
            value = js_trim(":".join(value_parts))
            if value == "":
                current_key = js_trim(key)
                if i + 1 < len(lines):
                    next_line = lines[i + 1]
                    if next_line.startswith("  - "):
                        i += 1
                        continue
                    if next_line.startswith("  "):
                        in_object = True
                        object_key = current_key
                        current_object = {}
                        current_key = ""
                        i += 1
                        continue
            else:
                result[js_trim(key)] = parse_value(value)
        i += 1
    if in_array:
        result[current_key] = current_array
    if in_object:
        result[object_key] = current_object
    return result


def _is_name_char(ch: str) -> bool:
    return ch in "_:.-" or unicodedata.category(ch)[0] in ("L", "N")


def validate_skill_name(name: str) -> None:
    if not name or not all(_is_name_char(c) for c in name):
        raise QwenRefusal(f'"name" must match /^[\\p{{L}}\\p{{N}}_:.-]+$/u (letters, digits, _, :, ., -); got "{name}"')


def parse_model_field(frontmatter: dict[str, Any]) -> str | None:
    if "model" not in frontmatter:
        return None
    raw = frontmatter["model"]
    if not isinstance(raw, str):
        raise QwenRefusal('"model" must be a string')
    trimmed = js_trim(raw)
    if trimmed in ("", "inherit"):
        return None
    return trimmed


def parse_paths_field(frontmatter: dict[str, Any]) -> list[str] | None:
    raw = frontmatter.get("paths")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise QwenRefusal('"paths" must be an array of glob patterns')
    cleaned = [js_trim(js_string(p)) for p in raw]
    cleaned = [p for p in cleaned if p]
    for pattern in cleaned:
        normalized = pattern.replace("\\", "/")
        if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
            raise QwenRefusal(
                f'"paths" entry "{pattern}" looks absolute; patterns are project-root-relative'
                " \u2014 drop the leading slash / drive letter"
            )
        if ".." in normalized.split("/"):
            raise QwenRefusal(
                f'"paths" entry "{pattern}" contains a ".." segment that escapes the project root;'
                " patterns must stay within the project"
            )
    return cleaned or None


def parse_skill_content(content: str, level: str = "project") -> dict[str, Any]:
    """What Qwen Code loads from a SKILL.md, or :class:`QwenRefusal` with its message.

    ``level`` is ``project``/``user``/``bundled`` (skill-manager.ts, which also
    reads ``hooks:`` with a full YAML parser) or ``extension`` (skill-load.ts).
    """
    normalized = normalize_content(content)
    match = _FRONTMATTER.match(normalized)
    if not match:
        raise QwenRefusal("Invalid format: missing YAML frontmatter")
    frontmatter_yaml, body = match.group(1), match.group(2)
    fm = parse(frontmatter_yaml)
    name_raw = fm.get("name")
    desc_raw = fm.get("description")
    if name_raw is None or name_raw == "":
        raise QwenRefusal('Missing "name" in frontmatter')
    if desc_raw is None or desc_raw == "":
        raise QwenRefusal('Missing "description" in frontmatter')
    name = js_string(name_raw)
    validate_skill_name(name)
    description = js_string(desc_raw)
    allowed_tools = None
    if "allowedTools" in fm:
        if isinstance(fm["allowedTools"], list):
            allowed_tools = [js_string(t) for t in fm["allowedTools"]]
        else:
            raise QwenRefusal('"allowedTools" must be an array')
    if level != "extension" and "hooks:" in frontmatter_yaml:
        # skill-manager.ts re-reads the whole frontmatter with the `yaml` package here
        import yaml

        try:
            from tierwise.yamlschema import strict_safe_load

            full = strict_safe_load(frontmatter_yaml)
        except yaml.YAMLError as exc:
            raise QwenRefusal(f"YAML parse error (frontmatter has `hooks:`): {exc}") from None
        if isinstance(full, dict) and "hooks" in full and full["hooks"] is None:
            raise QwenRefusal("Cannot convert undefined or null to object")
    model = parse_model_field(fm)
    paths = parse_paths_field(fm)
    errors = []
    if js_trim(name) == "":
        errors.append('"name" cannot be empty')
    if js_trim(description) == "":
        errors.append('"description" cannot be empty')
    if errors:
        raise QwenRefusal(f"Validation failed: {', '.join(errors)}")
    return {
        "name": name,
        "description": description,
        "allowedTools": allowed_tools,
        "model": model,
        "paths": paths,
        "body": js_trim(body),
        "frontmatter": fm,
    }


def refusal(content: str, level: str = "project") -> str | None:
    """Qwen Code's refusal message for this SKILL.md, or None when it loads it."""
    try:
        parse_skill_content(content, level)
    except QwenRefusal as exc:
        return str(exc)
    return None
