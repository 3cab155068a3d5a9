"""Make untrusted task text safe to store: secrets out, size bounded, valid text.

Args and kwargs arrive as reprs (Celery sends `argsrepr`/`kwargsrepr` when the caller set
them, so a producer that already hid a value is honoured). A repr that could hold a
secret-looking key is parsed with `ast.literal_eval` (never `eval`) and the values of such
keys are replaced; a repr that cannot be parsed but mentions such a key is withheld whole.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

REDACTED = "'***'"
WITHHELD = "<withheld: could not parse a value with secret-looking keys>"
ELLIPSIS = "…"
# user:password@ in URLs (DSNs in args are common): the password goes. Anchored on the
# literal "://" so the search skips ahead instead of trying every position.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/\s:@'\"]*+:)[^@\s'\"/]+@")
_URL_MASK = r"\g<head>***@"
# key = value / 'key': value pairs in free text. Each word is tried once (the lookbehind
# starts a key only at a word's start, the possessive ++ never gives characters back): the
# earlier form, a secret word inside `[\w.-]*...[\w.-]*` tried at every position, cost over
# a millisecond per traceback that merely mentions sqlalchemy/orm/session.py.
_PAIR = re.compile(
    r"(?P<key>['\"]?(?<![\w.-])(?P<name>[\w.-]++)['\"]?\s*+[:=]\s*+)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|[^\s,)}\]]+)"
)
_PARSE_LIMIT = 64 * 1024  # literal_eval on more than this is not worth its CPU
_CACHED_LENGTH = 200
_CACHE_SIZE = 4096


def clean_text(value: str) -> str:
    """Text every database accepts: no NUL, no lone surrogates."""
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    return value


class Redactor:
    """Redacts and truncates args, kwargs, results, exceptions and tracebacks."""

    def __init__(self, pattern: str, max_arg_chars: int, max_traceback_chars: int) -> None:
        self.keys = re.compile(pattern)
        self._mentions = _mention_check(pattern, self.keys)
        # reprs repeat ("()", "{}", the same kwargs for a whole batch job): remember results
        self._cache: dict[str, tuple[str | None, bool]] = {}
        self.max_arg_chars = max_arg_chars
        self.max_traceback_chars = max_traceback_chars

    def call_args(self, value: Any) -> tuple[str | None, bool]:
        """An args or kwargs repr, redacted and cut; True when anything was taken out."""
        if value is None:
            return None, False
        if value.__class__ is str and len(value) <= _CACHED_LENGTH:
            cached = self._cache.get(value)
            if cached is None:
                cached = self._call_args(value)
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                self._cache[value] = cached
            return cached
        return self._call_args(value)

    def _call_args(self, value: Any) -> tuple[str | None, bool]:
        text = clean_text(value if isinstance(value, str) else repr(value))
        changed = False
        if self._mentions(text):
            text, changed = self._redact_repr(text)
        if "://" in text:
            text, count = _URL_PASSWORD.subn(_URL_MASK, text)
            changed = changed or bool(count)
        cut, was_cut = self._cut_head(text, self.max_arg_chars)
        return cut, changed or was_cut

    def result(self, value: Any) -> str | None:
        if value is None:
            return None
        text, _ = self.call_args(value)
        return text

    def free_text(self, value: Any, traceback: bool = False) -> str | None:
        """An exception or traceback: `key=value` pairs with secret-looking keys masked."""
        if value is None:
            return None
        text = clean_text(value if isinstance(value, str) else repr(value))
        limit = self.max_traceback_chars if traceback else self.max_arg_chars
        if len(text) > 4 * limit:  # keep regex work bounded before redacting
            text = text[-4 * limit :] if traceback else text[: 4 * limit]
        if self._mentions(text):
            text = self._mask_pairs(text)
        if "://" in text:
            text = _URL_PASSWORD.sub(_URL_MASK, text)
        if traceback:
            return self._cut_tail(text, limit)
        return self._cut_head(text, limit)[0]

    def _redact_repr(self, text: str) -> tuple[str, bool]:
        if len(text) <= _PARSE_LIMIT:
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                parsed = _UNPARSED
            if parsed is not _UNPARSED:
                redacted, changed = self._redact_value(parsed, 0)
                return (repr(redacted), True) if changed else (text, False)
        if self._mask_pairs(text) != text:
            return WITHHELD, True
        return text, False

    def _mask_pairs(self, text: str) -> str:
        """Mask the value of every pair whose key looks secret (also inside other values)."""

        def replace(match: re.Match[str]) -> str:
            if self.keys.search(match.group("name")):
                return match.group("key") + REDACTED
            value = match.group("value")
            if "=" in value or ":" in value:  # "a=password=x": the inner pair too
                value = _PAIR.sub(replace, value)
            return match.group("key") + value

        return _PAIR.sub(replace, text)

    def _redact_value(self, value: Any, depth: int) -> tuple[Any, bool]:
        if depth > 20:
            return value, False
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            changed = False
            for key, item in value.items():
                if isinstance(key, str) and self.keys.search(key):
                    out[key] = _Masked()
                    changed = True
                else:
                    out[key], item_changed = self._redact_value(item, depth + 1)
                    changed = changed or item_changed
            return out, changed
        if isinstance(value, list | tuple):
            items = [self._redact_value(item, depth + 1) for item in value]
            changed = any(flag for _, flag in items)
            values = [item for item, _ in items]
            return (tuple(values) if isinstance(value, tuple) else values), changed
        return value, False

    @staticmethod
    def _cut_head(text: str, limit: int) -> tuple[str, bool]:
        if len(text) <= limit:
            return text, False
        return text[: limit - 1] + ELLIPSIS, True

    @staticmethod
    def _cut_tail(text: str, limit: int) -> str:
        if len(text) <= limit:
            return text
        return ELLIPSIS + text[-(limit - 1) :]


class _Masked:
    def __repr__(self) -> str:
        return REDACTED


def _mention_check(pattern: str, keys: re.Pattern[str]) -> Callable[[str], bool]:
    """Does a text mention a secret-looking key anywhere? (A cheap test before the work.)

    Python's case-insensitive search is several times slower than a plain one, so a
    `(?i)` pattern without capitals (the default) searches the lower-cased text instead.
    """
    rest = pattern[4:] if pattern.startswith("(?i)") else None
    if rest is None or rest != rest.lower() or "(?" in rest:
        return lambda text: keys.search(text) is not None
    plain = re.compile(rest)
    return lambda text: plain.search(text.lower()) is not None


_UNPARSED = object()
