"""Deterministic matching of a model-block condition's ``when`` against a request.

The rules (docs/routing.md, "Conditions") in short:

* A ``when`` **string** is cut into phrases: the text inside parentheses if it
  has any; else the text after the last of "involves", "mentions", "is a" or
  ":"; else the whole string. The phrases are split on commas, " or " and "/".
* A phrase **matches** when every content word of it (case-insensitive,
  simple plural folding, stopwords ignored) appears in the request.
* A phrase naming a **cheap signal** (seed 003) is decided by a detector
  instead of words: "stack trace" (a Python or JavaScript stack trace),
  "code block" (a ``` fence), "long request" / "large input" (more than
  4000 characters), "multi-file" / "multiple files" (two or more distinct file
  paths).
* A request longer than 32768 characters is read as its first and last 16384
  (its length is still measured whole).
* A ``when`` **mapping** ``{any: [...], all: [...], min_chars: N,
  has_code_block: bool, has_stack_trace: bool, has_multiple_files: bool}``
  matches when every key given holds.

No model, no clock, no I/O: the same (when, request) always gives the same answer.
Hot module: standard library only; plain string operations, no regex to
compile in a hook process.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LONG_REQUEST_CHARS = 4000
# A hook must stay fast whatever the user pastes: words and detectors read the
# first and the last SCAN_HALF characters of a longer request (its length is
# still measured whole).
SCAN_HALF = 16384


def scan_window(text: str) -> str:
    """The part of a request that is read: all of it, or its head and tail."""
    if len(text) <= 2 * SCAN_HALF:
        return text
    return text[:SCAN_HALF] + "\n" + text[-SCAN_HALF:]

STOPWORDS = frozenset(
    "a an the is are was be been of in on at for to with and or but by from as it its this that "
    "these those there their any some has have had when which who what into onto than then so "
    "such very just about like e g eg i e ie etc issue issues request".split()
)

# phrase fragment -> detector name
SIGNALS = (
    ("stack trace", "stack_trace"),
    ("stacktrace", "stack_trace"),
    ("traceback", "stack_trace"),
    ("code block", "code_block"),
    ("long request", "long_request"),
    ("large input", "long_request"),
    ("multi-file", "multiple_files"),
    ("multi file", "multiple_files"),
    ("multiple files", "multiple_files"),
)

INTRO_WORDS = ("involves", "involving", "mentions", "mentioning", "is a", "is an")
EXTENSIONS = frozenset(
    "ts tsx js jsx mjs cjs py css scss sass less htm html vue svelte go rs java kt rb php cs cpp cc c h "
    "hpp swift md json yaml yml toml sql sh".split()
)
# Everything but ASCII letters and digits separates words (str.translate: no
# regex to compile on the hot path).
_SEPARATORS = {i: " " for i in range(128) if not chr(i).isalnum()}
_SEPARATORS.update({ord(ch): " " for ch in "\u2014\u2013\u2018\u2019\u201c\u201d\u2026\u00ab\u00bb\u00b7\u00a0"})
_PATH_STRIP = " \t\r\n\"'`()[]{}<>,;:!?"


def fold(word: str) -> str:
    """Simple plural folding: conditions -> condition, classes -> class, queries -> query."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 4 and word.endswith(("ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Content words of a text: lowercased, plural-folded, stopwords dropped."""
    return [fold(w) for w in text.lower().translate(_SEPARATORS).split() if w not in STOPWORDS]


def _is_word_at(low: str, start: int, end: int) -> bool:
    before = low[start - 1] if start > 0 else " "
    after = low[end] if end < len(low) else " "
    return not before.isalnum() and not after.isalnum()


def _after_intro(text: str) -> str:
    """The text after the last intro word ("involves", "mentions", "is a", ":")."""
    low = text.lower()
    cut = -1
    for word in INTRO_WORDS:
        pos = low.find(word)
        while pos != -1:
            end = pos + len(word)
            if _is_word_at(low, pos, end) and end > cut:
                cut = end
            pos = low.find(word, pos + 1)
    colon = low.rfind(":")
    if colon != -1 and colon + 1 > cut:
        cut = colon + 1
    if cut != -1 and text[cut:].strip():
        return text[cut:]
    return text


def _parenthesized(text: str) -> list[str]:
    """The contents of the innermost (...) groups."""
    out = []
    opened = -1
    for i, ch in enumerate(text):
        if ch == "(":
            opened = i
        elif ch == ")" and opened != -1:
            out.append(text[opened + 1 : i])
            opened = -1
    return out


def _split_or(part: str) -> list[str]:
    """Split on the word "or" (any case), keeping the original text."""
    part = " ".join(part.split())
    low = part.lower()
    pieces, start, pos = [], 0, low.find("or")
    while pos != -1:
        if _is_word_at(low, pos, pos + 2):
            pieces.append(part[start:pos])
            start = pos + 2
        pos = low.find("or", pos + 2)
    pieces.append(part[start:])
    return pieces


def phrases(when: str) -> list[str]:
    """The phrases a ``when`` string stands for (see the module docstring)."""
    text = when.strip()
    inside = _parenthesized(text)
    text = ", ".join(inside) if inside else _after_intro(text)
    out = []
    for chunk in text.replace("/", ",").split(","):
        for part in _split_or(chunk):
            part = part.strip(" .;!?'\"")
            if part and (words(part) or _signal(part)):
                out.append(part)
    return out


def _signal(phrase: str) -> str | None:
    low = phrase.lower()
    for fragment, name in SIGNALS:
        if fragment in low:
            return name
    return None


def _is_js_frame(line: str) -> bool:
    # "at fn (file.js:10:5)" or "at file.js:10:5"
    if not line.startswith("at "):
        return False
    location = line.split()[-1].strip("()")
    parts = location.rsplit(":", 2)
    return len(parts) == 3 and bool(parts[0]) and parts[1].isdigit() and parts[2].isdigit()


def _is_py_frame(line: str) -> bool:
    # File "app.py", line 12, in <module>
    if not line.startswith('File "'):
        return False
    rest = line.partition('", line ')[2]
    return bool(rest) and rest.split(",")[0].strip().isdigit()


def has_stack_trace(text: str) -> bool:
    """A Python traceback, or a JavaScript stack frame in a text that names an error."""
    if "Traceback (most recent call last)" in text:
        return True
    js = False
    for raw in text.splitlines():
        line = raw.strip()
        if _is_py_frame(line):
            return True
        js = js or _is_js_frame(line)
    return js and "error" in text.lower()


def has_code_block(text: str) -> bool:
    """A ``` or ~~~ fence at the start of a line."""
    return any(line.lstrip().startswith(("```", "~~~")) for line in text.splitlines())


def file_paths(text: str) -> list[str]:
    """Distinct file paths (with a known source/doc extension) named in the text."""
    seen: list[str] = []
    for token in text.split():
        token = token.strip(_PATH_STRIP).rstrip(".")
        stem, dot, ext = token.rpartition(".")
        if not dot or ext.lower() not in EXTENSIONS or not stem or stem.endswith("/"):
            continue
        if "://" in token or not all(ch.isalnum() or ch in "_-./" for ch in token):
            continue
        if token not in seen:
            seen.append(token)
    return seen


def detect(signal: str, text: str) -> bool:
    if signal == "long_request":
        return len(text) > LONG_REQUEST_CHARS
    text = scan_window(text)
    if signal == "stack_trace":
        return has_stack_trace(text)
    if signal == "code_block":
        return has_code_block(text)
    if signal == "multiple_files":
        return len(file_paths(text)) >= 2
    return False


def phrase_matches(phrase: str, text: str, _request_words: frozenset[str] | None = None) -> bool:
    """One phrase against the request: its signal detector, else all its content words."""
    signal = _signal(phrase)
    if signal is not None:
        return detect(signal, text)
    needed = words(phrase)
    if not needed:
        return False
    have = _request_words if _request_words is not None else frozenset(words(scan_window(text)))
    return all(w in have for w in needed)


def match(when: object, text: str) -> str | None:
    """What in ``when`` matched the request ``text`` (a short description for the
    audit), or None when it does not match. Anything that is not a string or a
    mapping never matches."""
    if not text:
        return None
    if isinstance(when, str):
        request_words = frozenset(words(scan_window(text)))
        for phrase in phrases(when):
            if phrase_matches(phrase, text, request_words):
                return phrase
        return None
    if isinstance(when, dict):
        return _match_mapping(when, text)
    return None


def _match_mapping(when: dict[str, Any], text: str) -> str | None:
    matched: list[str] = []
    checked = False
    request_words = frozenset(words(scan_window(text)))
    any_of = when.get("any")
    if any_of is not None:
        checked = True
        hit = next(
            (p for p in _as_list(any_of) if phrase_matches(p, text, request_words)), None
        )
        if hit is None:
            return None
        matched.append(hit)
    all_of = when.get("all")
    if all_of is not None:
        checked = True
        items = _as_list(all_of)
        if not items or not all(phrase_matches(p, text, request_words) for p in items):
            return None
        matched.append(" + ".join(items))
    min_chars = when.get("min_chars")
    if min_chars is not None:
        checked = True
        if isinstance(min_chars, bool) or not isinstance(min_chars, int) or len(text) < min_chars:
            return None
        matched.append(f"{len(text)} chars >= {min_chars}")
    for key, signal, label in (
        ("has_code_block", "code_block", "code block"),
        ("has_stack_trace", "stack_trace", "stack trace"),
        ("has_multiple_files", "multiple_files", "multiple files"),
    ):
        want = when.get(key)
        if want is None:
            continue
        checked = True
        if not isinstance(want, bool) or detect(signal, text) != want:
            return None
        matched.append(label if want else f"no {label}")
    return ", ".join(matched) if checked else None


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
