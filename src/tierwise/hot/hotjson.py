"""JSON for hook processes, without importing the ``json`` package.

``import json`` pulls in ``re`` and ``enum`` and compiles regular expressions:
about 0.7x of a bare interpreter start on its own, on every hook call. The C
accelerator ``_json`` that ``json`` itself uses needs none of that, so this
module drives it directly. Output and accepted input are the same as the
standard library's for what the hot path uses (checked by a property test);
errors are ``ValueError`` (``json.JSONDecodeError`` is a subclass of it).
"""

from __future__ import annotations

from _json import encode_basestring, encode_basestring_ascii, make_encoder, make_scanner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, Callable

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """The attributes ``_json.make_scanner`` reads from a decoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo: dict[str, str] = {}


_scan_once = make_scanner(_Context())  # type: ignore[arg-type]  # duck-typed context, as in json.decoder


def loads(text: str | bytes | bytearray) -> Any:
    if isinstance(text, (bytes, bytearray)):
        # as "utf-8-sig" decodes, without importing that codec (a hook's payload arrives as bytes)
        text = bytes(text).decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
    elif text.startswith("\ufeff"):
        raise ValueError("Unexpected UTF-8 BOM (decode using utf-8-sig)")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan_once(text, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    except (RecursionError, SystemError):
        # Too deeply nested. In a fresh process the scanner's error path imports
        # json.decoder with the recursion limit already spent, and that failure
        # surfaces as a SystemError instead of a RecursionError.
        raise ValueError("JSON nested too deeply") from None
    rest = text[end:]
    if rest.strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def load(fh: IO[str]) -> Any:
    return loads(fh.read())


def _no_default(obj: object) -> object:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(
    obj: object,
    *,
    ensure_ascii: bool = True,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
    default: Callable[[Any], object] | None = None,
) -> str:
    item_separator, key_separator = separators or (", ", ": ")
    encode = make_encoder(
        {},
        default or _no_default,
        encode_basestring_ascii if ensure_ascii else encode_basestring,
        None,
        key_separator,
        item_separator,
        sort_keys,
        False,
        True,
    )
    return "".join(encode(obj, 0))


def dump(obj: object, fh: IO[str], **kwargs: Any) -> None:
    fh.write(dumps(obj, **kwargs))
