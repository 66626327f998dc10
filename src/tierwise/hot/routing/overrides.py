"""Inline model overrides in a user's prompt (spec §3.3).

``parse_prompt(text, known_skills)`` finds, deterministically:

* **force_model**: "run everything on haiku", "use haiku for everything",
  "all on haiku", "everything on haiku", "force haiku": every skill, and it
  persists for the session (``merge``);
* **skill_models**: a model directive ("use sonnet", "using opus", "on haiku",
  "switch to sonnet") in a sentence that names a known skill applies to the
  skill(s) named in that sentence, and persists for the session;
* **prompt_model**: the same directive in a sentence naming no skill applies to
  the skills run for this prompt only;
* **ignore_minimum**: "ignore minimum", "ignore the minimum", "ignore the
  skill's minimum" (persists until "respect the minimum").

Not counted: anything inside a ``` fence or `inline code`; a directive preceded
(within three words of the same clause) by a negation such as "don't",
"do not", "never", "not", "without", "avoid", "instead of", "rather than";
a tier word without a model verb ("write a haiku poem"). A prompt longer than
32768 characters is read as its first and last 16384. When one prompt says two
things about the same target, the later one wins. Each result keeps the exact
phrase of the prompt that set it in ``source_text`` (for the audit).

Hot module: standard library only. Regexes are imported and compiled only for
a prompt that mentions a tier or "minimum" (most prompts do not).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any, TypedDict

    class SourceText(TypedDict, total=False):
        force_model: str
        prompt_model: str
        ignore_minimum: str
        skill_models: dict[str, str]

    class Overrides(TypedDict, total=False):
        force_model: str | None
        prompt_model: str | None
        skill_models: dict[str, str]
        ignore_minimum: bool
        respect_minimum: bool
        source_text: SourceText


DEFAULT_TIERS = ("haiku", "sonnet", "opus")

NEGATIONS = (
    "don't", "dont", "do not", "doesn't", "does not", "never", "not", "without",
    "avoid", "instead of", "rather than", "stop using", "shouldn't", "should not",
    "won't", "will not", "can't", "cannot", "isn't",
)

_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(key: str, pattern: str) -> re.Pattern[str]:
    compiled = _CACHE.get(key)
    if compiled is None:
        import re

        compiled = re.compile(pattern, re.IGNORECASE)
        _CACHE[key] = compiled
    return compiled


def empty() -> dict[str, Any]:
    """Overrides that change nothing."""
    return {
        "force_model": None,
        "prompt_model": None,
        "skill_models": {},
        "ignore_minimum": False,
        "source_text": {},
    }


def _blank_code(text: str) -> str:
    """Replace fenced and inline code with spaces, keeping every offset."""
    fence = _compile("fence", r"(?s:(```|~~~).*?(?:\1|\Z))|`[^`\n]*`")
    return fence.sub(lambda m: " " * len(m.group(0)) if "\n" not in m.group(0) else "".join(
        "\n" if ch == "\n" else " " for ch in m.group(0)), text)


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences/clauses a prompt is cut into."""
    spans = []
    start = 0
    for m in _compile("sentence", r"[.!?;\n]+(?:\s|$)|\n").finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _negated(sentence: str, offset: int) -> bool:
    before = sentence[:offset].lower().replace("\u2019", "'")
    # a negation reaches across at most three words and never across a comma or dash
    before = _compile("clause", r"[,:\u2014\u2013]| - ").split(before)[-1]
    tail = " " + " ".join(_compile("words", r"[a-z']+").findall(before)[-3:]) + " "
    return any(f" {neg} " in tail for neg in NEGATIONS)


def _tier_alt(tiers: tuple[str, ...]) -> str:
    import re

    return "|".join(re.escape(t) for t in sorted(tiers, key=len, reverse=True))


def _skill_pattern(skill: str) -> re.Pattern[str]:
    import re

    return _compile("skill:" + skill, r"(?<![\w:-])" + re.escape(skill) + r"(?![\w-])")


def parse_prompt(
    text: str, known_skills: list[str] | tuple[str, ...] | set[str] | frozenset[str] = (),
    tiers: tuple[str, ...] | list[str] = DEFAULT_TIERS,
) -> dict[str, Any]:
    """The inline overrides a prompt carries (see the module docstring)."""
    result = empty()
    if not isinstance(text, str) or not text.strip():
        return result
    tier_names = tuple(t for t in tiers if isinstance(t, str) and t)
    if not tier_names:
        return result
    from tierwise.hot.routing.conditions import scan_window

    # a long prompt (a pasted log) is read as its head and tail: directives sit there
    text = scan_window(text)
    low = text.lower()
    if "minimum" not in low and not any(t.lower() in low for t in tier_names):
        return result  # nothing to find: the common case compiles no regex
    alt = _tier_alt(tier_names)
    key = "|".join(tier_names)
    force_re = _compile(
        "force:" + key,
        r"\b(?:(?:run|use|do|put|execute|route)\s+(?:everything|all(?:\s+(?:the\s+)?skills)?|"
        r"all\s+of\s+it|every\s+skill)\s+(?:on|with|using|in|at|via)\s+(?P<a>" + alt + r")"
        r"|(?:use|using|run|force)\s+(?P<b>" + alt + r")\s+for\s+(?:everything|all(?:\s+(?:the\s+)?skills)?|every\s+skill|all\s+of\s+it)"
        r"|(?:everything|all|every\s+skill)\s+(?:on|with|using|at)\s+(?P<c>" + alt + r")"
        r"|force(?:\s+model)?\s+(?P<d>" + alt + r"))\b",
    )
    model_re = _compile(
        "model:" + key,
        r"\b(?:use|using|on|switch(?:ing)?\s+to|run\s+(?:it|this|that)\s+on|with\s+model)\s+"
        r"(?:the\s+)?(?P<t>" + alt + r")\b(?!\s*(?:poem|poems|verse|verses|style|format|magnum)\b)",
    )
    ignore_re = _compile(
        "ignore",
        r"\bignor(?:e|ing)\s+(?:the\s+)?(?:skill'?s?\s+|skills'\s+)?(?:model\s+)?minimum(?:s)?\b",
    )
    respect_re = _compile(
        "respect",
        r"\b(?:respect|honou?r|keep|enforce)\s+(?:the\s+)?(?:skill'?s?\s+)?minimum(?:s)?(?:\s+again)?\b",
    )
    clean = _blank_code(text)
    skills = sorted({s for s in known_skills if isinstance(s, str) and s}, key=len, reverse=True)
    sources: dict[str, Any] = {}
    for s_start, s_end in _sentences(clean):
        sentence = clean[s_start:s_end]
        taken: list[tuple[int, int]] = []
        events: list[tuple[int, str, str, str]] = []  # (offset, kind, tier, phrase)
        for m in force_re.finditer(sentence):
            if _negated(sentence, m.start()):
                continue
            tier = next(g for g in m.groups() if g)
            taken.append((m.start(), m.end()))
            events.append((m.start(), "force", tier.lower(), text[s_start + m.start(): s_start + m.end()]))
        for m in model_re.finditer(sentence):
            if any(a <= m.start() < b or a < m.end() <= b for a, b in taken):
                continue
            if _negated(sentence, m.start()):
                continue
            events.append((m.start(), "model", m.group("t").lower(), text[s_start + m.start(): s_start + m.end()]))
        for m in ignore_re.finditer(sentence):
            if not _negated(sentence, m.start()):
                events.append((m.start(), "ignore", "", text[s_start + m.start(): s_start + m.end()]))
        for m in respect_re.finditer(sentence):
            if not _negated(sentence, m.start()):
                events.append((m.start(), "respect", "", text[s_start + m.start(): s_start + m.end()]))
        if not events:
            continue
        named = [s for s in skills if _skill_pattern(s).search(sentence)]
        for _, kind, tier, phrase in sorted(events):
            if kind == "force":
                result["force_model"] = tier
                sources["force_model"] = phrase
            elif kind == "model" and named:
                for skill in named:
                    result["skill_models"][skill] = tier
                    sources.setdefault("skill_models", {})[skill] = phrase
            elif kind == "model":
                result["prompt_model"] = tier
                sources["prompt_model"] = phrase
            elif kind == "ignore":
                result["ignore_minimum"] = True
                result.pop("respect_minimum", None)
                sources["ignore_minimum"] = phrase
            else:
                result["ignore_minimum"] = False
                result["respect_minimum"] = True
                sources.pop("ignore_minimum", None)
    result["source_text"] = sources
    return result


def merge(previous: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """The session's overrides after one more prompt.

    * ``force_model`` persists until a later prompt sets another one; a new
      force_model also drops the skill overrides of earlier prompts (the later
      general instruction wins over an earlier specific one);
    * ``skill_models`` persist, a later one for the same skill replacing the earlier;
    * ``prompt_model`` lives for one prompt: it is the new prompt's (or none);
    * ``ignore_minimum`` persists until a prompt says "respect the minimum".
    """
    prev = previous if isinstance(previous, dict) else empty()
    cur = new if isinstance(new, dict) else empty()
    prev_src = prev.get("source_text") if isinstance(prev.get("source_text"), dict) else {}
    cur_src = cur.get("source_text") if isinstance(cur.get("source_text"), dict) else {}
    assert isinstance(prev_src, dict) and isinstance(cur_src, dict)
    out = empty()
    src: dict[str, Any] = {}
    if cur.get("force_model"):
        out["force_model"] = cur["force_model"]
        if "force_model" in cur_src:
            src["force_model"] = cur_src["force_model"]
        skill_models: dict[str, str] = {}
        skill_src: dict[str, str] = {}
    else:
        out["force_model"] = prev.get("force_model")
        if out["force_model"] and "force_model" in prev_src:
            src["force_model"] = prev_src["force_model"]
        skill_models = dict(prev.get("skill_models") or {})
        skill_src = dict(prev_src.get("skill_models") or {})
    skill_models.update(cur.get("skill_models") or {})
    skill_src.update(cur_src.get("skill_models") or {})
    out["skill_models"] = skill_models
    if skill_src:
        src["skill_models"] = {k: v for k, v in skill_src.items() if k in skill_models}
    out["prompt_model"] = cur.get("prompt_model")
    if out["prompt_model"] and "prompt_model" in cur_src:
        src["prompt_model"] = cur_src["prompt_model"]
    if cur.get("ignore_minimum"):
        out["ignore_minimum"] = True
        if "ignore_minimum" in cur_src:
            src["ignore_minimum"] = cur_src["ignore_minimum"]
    elif cur.get("respect_minimum"):
        out["ignore_minimum"] = False
    else:
        out["ignore_minimum"] = bool(prev.get("ignore_minimum"))
        if out["ignore_minimum"] and "ignore_minimum" in prev_src:
            src["ignore_minimum"] = prev_src["ignore_minimum"]
    out["source_text"] = src
    return out
