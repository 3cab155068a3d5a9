"""What makes two failures "the same": task name, exception type, normalised message and the
innermost frame of the project's own code.

Messages carry the values that differ per run ("user 4821", an order id, an address); they
are replaced by placeholders so "KeyError: 'user 4821'" and "KeyError: 'user 77'" are one
group. Line numbers are left out of the frame, so a deploy that moves code keeps its groups.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass

MAX_MESSAGE = 300
MAX_LITERAL = 4000  # longer exception arguments are normalised as text, not parsed

_EXCEPTION_REPR = re.compile(r"^\s*([A-Za-z_][\w.]*)\((.*)\)\s*$", re.DOTALL)
_LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*):\s?(.*)$")  # "KeyError: 'user 4821'"
_ONE_STRING = re.compile(r"""^'([^'\\]*)'$|^"([^"\\]*)"$""")
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+, in (\S+)', re.MULTILINE)
_NOT_PROJECT = ("site-packages", "dist-packages", "<frozen", "/lib/python3", "\\lib\\python3")

# order matters: quoted values first (they may hold anything), then ids, then bare numbers
_REPLACEMENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""), "<value>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<id>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"[-+]?\d+(?:\.\d+)?"), "<n>"),
)  # fmt: skip


@dataclass(frozen=True)
class Cause:
    task_name: str
    exception_type: str
    message: str  # normalised
    frame: str | None  # "package/module.py in function"

    @property
    def fingerprint(self) -> str:
        key = "\x00".join((self.task_name, self.exception_type, self.message, self.frame or ""))
        return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def normalise(message: str) -> str:
    """The message with its per-run values replaced, whitespace collapsed, bounded."""
    for pattern, placeholder in _REPLACEMENTS:
        message = pattern.sub(placeholder, message)
    return " ".join(message.split())[:MAX_MESSAGE]


def split_exception(exception: str | None, traceback: str | None) -> tuple[str, str]:
    """(type, message) from Celery's `exception` (a repr such as "KeyError('user 4821')"),
    or from the traceback's last line when the repr is not recognisable."""
    text = (exception or "").strip()
    if match := _EXCEPTION_REPR.match(text):
        return match.group(1).rsplit(".", 1)[-1], _message_of(match.group(2))
    for line in reversed((traceback or "").strip().splitlines()):
        if match := _LAST_LINE.match(line.strip()):
            return match.group(1).rsplit(".", 1)[-1], match.group(2)
    return ("Unknown" if not text else text.split(":", 1)[0][:100]), text


def _message_of(arguments: str) -> str:
    """The exception's message as str(exc) shows it: "user 4821" for KeyError('user 4821'),
    not a quoted value that would be replaced whole."""
    if simple := _ONE_STRING.match(arguments):  # the usual case, without a parser
        return simple.group(1) if simple.group(1) is not None else simple.group(2)
    if len(arguments) > MAX_LITERAL:
        return arguments
    try:
        values = ast.literal_eval(f"({arguments},)") if arguments.strip() else ()
    except (ValueError, SyntaxError, MemoryError, RecursionError, SystemError):
        return arguments  # SystemError: CPython 3.11's AST check under concurrent parses
    return " ".join(str(value) for value in values)


def innermost_project_frame(traceback: str | None) -> str | None:
    """The last frame of the traceback that is not in the standard library or an installed
    package (Celery's own frames are never the cause): "worker_tasks/tasks.py in add"."""
    found: str | None = None
    for path, function in _FRAME.findall(traceback or ""):
        if any(marker in path for marker in _NOT_PROJECT):
            continue
        parts = path.replace("\\", "/").rsplit("/", 2)
        found = f"{'/'.join(parts[-2:])} in {function}"
    return found[:512] if found else None


def cause_of(task_name: str | None, exception: str | None, traceback: str | None) -> Cause:
    kind, message = split_exception(exception, traceback)
    return Cause(
        task_name=(task_name or "(unknown task)")[:255],
        exception_type=kind[:255],
        message=normalise(message),
        frame=innermost_project_frame(traceback),
    )
