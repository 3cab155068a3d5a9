"""PEP 701 f-strings (Python 3.12) spelled so that Python 3.11 reads them.

Since 3.12 a replacement field may hold a string in the f-string's own quote,
``f"{row["name"]}"``; 3.11 ends the f-string at that inner quote, so the whole file fails to
parse and every route and dispatch in it is lost. Swapping the inner string's quotes for the
other kind (``f"{row['name']}"``) means the same thing and keeps every line and column, so
evidence still points at the file's own positions. A string that cannot be swapped (it holds
the other quote, or a third level needs a third kind) is left alone: that file stays skipped.
"""

from __future__ import annotations

_QUOTES = "'\""
_PREFIX_LETTERS = frozenset("rRbBuUfF")


def requote(text: str) -> str:
    """``text`` with every nested same-quote string inside a one-line f-string swapped."""
    out = list(text)
    _Scanner(text, out).code()
    return "".join(out)


class _Scanner:
    def __init__(self, text: str, out: list[str]) -> None:
        self.text = text
        self.out = out
        self.i = 0

    # ---- code outside strings --------------------------------------------------------

    def code(self) -> None:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c == "#":
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end
            elif c in _QUOTES:
                self.string("", ())
            elif c.isalpha() or c == "_":
                start = self.i
                while self.i < n and (text[self.i].isalnum() or text[self.i] == "_"):
                    self.i += 1
                word = text[start : self.i]
                if self.i < n and text[self.i] in _QUOTES and _is_prefix(word):
                    self.string(word, ())
            else:
                self.i += 1

    # ---- one string literal, self.i at its opening quote -----------------------------

    def string(self, prefix: str, enclosing: tuple[str, ...]) -> tuple[int, int]:
        """Scan the literal at ``self.i``; returns (opening, closing) quote offsets
        (closing -1 when the text ends first)."""
        text, n = self.text, len(self.text)
        quote = text[self.i]
        triple = text.startswith(quote * 3, self.i)
        opening = self.i
        self.i += 3 if triple else 1
        formatted = "f" in prefix.lower()
        while self.i < n:
            c = text[self.i]
            if c == "\\":
                self.i += 2
            elif c == quote and (not triple or text.startswith(quote * 3, self.i)):
                closing = self.i
                self.i += 3 if triple else 1
                return opening, closing
            elif c == "\n" and not triple:
                return opening, -1
            elif formatted and c == "{":
                if text.startswith("{{", self.i):
                    self.i += 2
                else:
                    self.i += 1
                    inner = enclosing if triple else (*enclosing, quote)
                    self.field(inner)
            else:
                self.i += 1
        return opening, -1

    # ---- a replacement field, self.i just past its "{" -------------------------------

    def field(self, enclosing: tuple[str, ...]) -> None:
        text, n = self.text, len(self.text)
        depth = 0
        while self.i < n:
            c = text[self.i]
            if c in _QUOTES or (c in _PREFIX_LETTERS and self._prefixed_string()):
                self.nested(enclosing)
            elif c in "([{":
                depth += 1
                self.i += 1
            elif c in ")]":
                depth -= 1
                self.i += 1
            elif c == "}":
                self.i += 1
                if depth == 0:
                    return
                depth -= 1
            elif c == ":" and depth == 0:
                self.i += 1
                self.spec(enclosing)
                return
            elif c == "\n" and enclosing and not depth:
                return
            else:
                self.i += 1

    def spec(self, enclosing: tuple[str, ...]) -> None:
        """A format spec: literal text with nested fields, up to the field's ``}``."""
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c == "{":
                self.i += 1
                self.field(enclosing)
            elif c == "}":
                self.i += 1
                return
            elif c in _QUOTES and c in enclosing:
                return  # the f-string ends here
            else:
                self.i += 1

    def nested(self, enclosing: tuple[str, ...]) -> None:
        """A string inside a replacement field: swapped when it uses an enclosing quote."""
        text = self.text
        start = self.i
        while text[self.i] in _PREFIX_LETTERS:
            self.i += 1
        prefix = text[start : self.i]
        quote = text[self.i]
        triple = text.startswith(quote * 3, self.i)
        other = '"' if quote == "'" else "'"
        swap = quote in enclosing and not triple and other not in enclosing
        opening, closing = self.string(prefix, (*enclosing, other) if swap else enclosing)
        if swap and closing > 0 and other not in text[opening + 1 : closing]:
            self.out[opening] = self.out[closing] = other

    def _prefixed_string(self) -> bool:
        text, j = self.text, self.i
        if j and (text[j - 1].isalnum() or text[j - 1] == "_"):
            return False
        while j < len(text) and text[j] in _PREFIX_LETTERS:
            j += 1
        return j < len(text) and text[j] in _QUOTES and _is_prefix(text[self.i : j])


def _is_prefix(word: str) -> bool:
    lowered = word.lower()
    return len(lowered) <= 2 and set(lowered) <= {"r", "b", "u", "f"}
