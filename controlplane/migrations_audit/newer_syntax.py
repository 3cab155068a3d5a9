"""Newer Python syntax spelled the way the running Python reads it.

A project may be written for a newer Python than the one running the audit (polar targets
3.14, the audit runs on 3.11): a file using PEP 701 nested quotes in f-strings, PEP 695 type
parameters or aliases, or PEP 758
``except A, B:``, would not parse and every route and dispatch in it would be missed. These
forms change nothing the audit reads (types are not followed through type parameters), so
they are rewritten in place before a second parse: same lines, and the same columns for
everything after the change on a line, so evidence keeps the file's line numbers.
"""

from __future__ import annotations

import io
import re
import tokenize

from .nested_fstrings import requote

# PEP 758 (Python 3.14): ``except A, B:`` without parentheses, when there is no ``as``.
_BARE_EXCEPT_TUPLE = re.compile(rb"^([ \t]*except\*?[ \t]+)([^\n:()#]+,[^\n:()#]+?)([ \t]*:)", re.M)

# Tokens that end a logical line or only lay it out: a ``type`` after them starts a statement.
_STATEMENT_START = frozenset(
    {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}
)


def downlevel(data: bytes) -> bytes:
    """``data`` with PEP 758 ``except`` tuples parenthesised, PEP 701 nested quotes swapped
    (nested_fstrings), PEP 695 type parameter lists
    (``def f[T](``, ``class C[T](``) blanked out and ``type X[T] = v`` aliases spelled
    ``X = v``. A blanked span over several lines ends each of its lines with ``\\`` so the
    statement still continues. Returns ``data`` unchanged when it does not tokenize."""
    data = _BARE_EXCEPT_TUPLE.sub(rb"\1(\2)\3", data)
    data = requote(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    try:
        tokens = list(tokenize.tokenize(io.BytesIO(data).readline))
    except (tokenize.TokenError, SyntaxError):
        return data
    edits = _pep695_edits(tokens)
    if not edits:
        return data
    text = data.decode("utf-8", "surrogateescape")
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    # Token columns count characters of the decoded line: offsets into the decoded text.
    for (row, col), (end_row, end_col), name in sorted(edits, reverse=True):
        begin, finish = starts[row - 1] + col, starts[end_row - 1] + end_col
        text = text[:begin] + _blank(text[begin:finish], name) + text[finish:]
    return text.encode("utf-8", "surrogateescape")


def _blank(span: str, replacement: str) -> str:
    """``replacement`` then spaces over ``span``, keeping its line breaks (continued)."""
    lines = span.splitlines(keepends=True)
    out = []
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        filler = (replacement if i == 0 else "").ljust(len(body))
        out.append(filler + ("\\" if ending else "") + ending)
    return "".join(out)


Position = tuple[int, int]


def _pep695_edits(tokens: list[tokenize.TokenInfo]) -> list[tuple[Position, Position, str]]:
    """(start, end, replacement) of each PEP 695 form: a type parameter list, or the head
    ``type X[T]`` of an alias."""
    edits: list[tuple[Position, Position, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or i + 2 >= len(tokens):
            continue
        name, after = tokens[i + 1], tokens[i + 2]
        if name.type != tokenize.NAME:
            continue
        if tok.string in ("def", "class") and after.string == "[":
            close = _closing_bracket(tokens, i + 2)
            if close is not None:
                edits.append((after.start, tokens[close].end, ""))
        elif tok.string == "type" and (i == 0 or tokens[i - 1].type in _STATEMENT_START):
            equals = i + 2
            if after.string == "[":
                close = _closing_bracket(tokens, i + 2)
                equals = close + 1 if close is not None else len(tokens)
            if equals < len(tokens) and tokens[equals].string == "=":
                edits.append((tok.start, tokens[equals].start, name.string))
    return edits


def _closing_bracket(tokens: list[tokenize.TokenInfo], opening: int) -> int | None:
    depth = 0
    for j in range(opening, len(tokens)):
        text = tokens[j].string
        if tokens[j].type == tokenize.OP and text in "([{":
            depth += 1
        elif tokens[j].type == tokenize.OP and text in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return None
