"""Make untrusted task text safe to store: secrets out, size bounded, valid text.

Args and kwargs arrive as reprs (Celery sends `argsrepr`/`kwargsrepr` when the caller set
them, so a producer that already hid a value is honoured). A repr that could hold a
secret-looking key is parsed with `ast.literal_eval` (never `eval`) and the values of such
keys are replaced; a repr that cannot be parsed but mentions such a key is withheld whole.
String values are searched too (libpq `password=...`, JSON text, header pairs), and every
text goes through detect-secrets' token rules (events/secret_rules.py) for secrets that no
key names. This is the one redactor: task rows at ingest, the action log's parameters and
errors (control/action_log.py), and what pages and the API show of them.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from controlplane.events.secret_rules import mask_secrets

REDACTED = "'***'"
WITHHELD = "<withheld: could not parse a value with secret-looking keys>"
ELLIPSIS = "…"
# user:password@ in URLs (DSNs in args are common): the password goes, up to the last "@"
# before the host, so a password holding "/" or "@" goes whole. Anchored on the literal
# "://" so the search skips ahead instead of trying every position.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/\s:@'\"]*+:)[^\s'\"]*@(?=[^@\s'\"/]*(?:[/\s'\"?#]|$))")
_URL_MASK = r"\g<head>***@"
# key = value / 'key': value pairs in free text. Each word is tried once (the lookbehind
# starts a key only at a word's start, the possessive ++ never gives characters back): the
# earlier form, a secret word inside `[\w.-]*...[\w.-]*` tried at every position, cost over
# a millisecond per traceback that merely mentions sqlalchemy/orm/session.py.
_PAIR = re.compile(
    r"(?P<key>['\"]?(?<![\w.-])(?P<name>[\w.-]++)['\"]?\s*+[:=]\s*+)"
    r"(?P<value>'[^']*'|\"[^\"]*\"|(?i:(?:bearer|basic|digest|token)\s+)?[^\s,)}\]]+)"
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
        self._mentions = _Mentions(pattern, self.keys)
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
        if self._mentions.any(text):
            text, changed = self._redact_repr(text)
        if "://" in text:
            text, count = _URL_PASSWORD.subn(_URL_MASK, text)
            changed = changed or bool(count)
        text, found = mask_secrets(text, "***")
        changed = changed or found
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
        text = self.text(text)
        if traceback:
            return self._cut_tail(text, limit)
        return self._cut_head(text, limit)[0]

    def text(self, text: str) -> str:
        """Any text, not cut: secret pairs, URL passwords and recognised secrets masked."""
        if self._mentions.any(text):
            text = self._mask_pairs(text)
        if "://" in text:
            text = _URL_PASSWORD.sub(_URL_MASK, text)
        return mask_secrets(text, "***")[0]

    def structure(self, value: Any) -> Any:
        """A JSON-like value (an action's parameters) with secrets masked, keys and text."""
        redacted, _ = self._redact_value(value, 0)
        return _unmask(redacted)

    def _redact_repr(self, text: str) -> tuple[str, bool]:
        if len(text) <= _PARSE_LIMIT:
            try:
                parsed = ast.literal_eval(text)
            # SystemError: CPython 3.11's AST recursion check under concurrent parses; the
            # text is then masked by pattern below, as any text that does not parse.
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, SystemError):
                parsed = _UNPARSED
            if parsed is not _UNPARSED:
                redacted, changed = self._redact_value(parsed, 0)
                return (repr(redacted), True) if changed else (text, False)
        if self._mask_pairs(text) != text:
            return WITHHELD, True
        return text, False

    def _mask_pairs(self, text: str) -> str:
        """Mask the value of every `key = value` pair whose key looks secret.

        Only the words where the pattern matched are looked at (a pair's key is the whole
        word around such a match), so a long traceback costs a search, not a regex tried
        at each of its positions.
        """
        out: list[str] = []
        done = 0
        for hit in self._mentions.where(text):
            if hit < done:
                continue  # inside a value already masked
            word = hit
            while word > done and (text[word - 1].isalnum() or text[word - 1] in "_.-"):
                word -= 1
            match = _PAIR.match(text, word)
            if match is None or hit >= match.end("name"):
                continue  # not the key of a pair
            out.append(text[done : match.start("value")])
            out.append(REDACTED)
            done = match.end()
        if not out:
            return text
        out.append(text[done:])
        return "".join(out)

    def _redact_value(self, value: Any, depth: int) -> tuple[Any, bool]:
        if depth > 20:
            return _Masked(), True  # not looked into, so not shown
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            changed = False
            for key, item in value.items():
                name = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
                if isinstance(name, str) and self.keys.search(name):
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
        if isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
            masked = self.text(text)
            return (masked.encode() if masked != text else value), masked != text
        if isinstance(value, str):
            masked = self.text(value)
            return masked, masked != value
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


def _unmask(value: Any) -> Any:
    """`_Masked` placeholders as the plain string "***", bytes as text (for JSON)."""
    if isinstance(value, _Masked):
        return "***"
    if isinstance(value, dict):
        return {_plain(key): _unmask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_unmask(item) for item in value]
    return _plain(value)


def _plain(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


class _Mentions:
    """Where a text mentions a secret-looking key (a cheap test before any work).

    Python's case-insensitive search is several times slower than a plain one, so a
    `(?i)` pattern without capitals (the default) searches the lower-cased text instead.
    """

    def __init__(self, pattern: str, keys: re.Pattern[str]) -> None:
        self.keys = keys
        rest = pattern[4:] if pattern.startswith("(?i)") else None
        usable = rest is not None and rest == rest.lower() and "(?" not in rest
        self.plain = re.compile(rest) if usable and rest is not None else None

    def any(self, text: str) -> bool:
        if self.plain is None:
            return self.keys.search(text) is not None
        return self.plain.search(text.lower()) is not None

    def where(self, text: str) -> list[int]:
        """Start offsets in `text` of the pattern's matches."""
        lower = text.lower() if self.plain is not None else text
        if self.plain is None or len(lower) != len(text):  # offsets must be the text's
            return [match.start() for match in self.keys.finditer(text)]
        return [match.start() for match in self.plain.finditer(lower)]


_UNPARSED = object()
