"""Report formatters: one function per format, ``render(report) -> str``, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from ..report import Report
from . import html, json, markdown, sarif, text

Formatter = Callable[[Report], str]

FORMATTERS: dict[str, Formatter] = {
    "text": text.render,
    "markdown": markdown.render,
    "json": json.render,
    "sarif": sarif.render,
    "html": html.render,
}


def get_formatter(name: str) -> Formatter:
    """The formatter called ``name``; KeyError names the known ones."""
    try:
        return FORMATTERS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; choose from {', '.join(FORMATTERS)}") from None
