"""Decide each endpoint's status from what its trace reached, and keep the evidence.

The status is never guessed (issue 14): a possible dispatch that could not be decided
makes the endpoint ``unresolved`` with the reason, unless a real dispatch was found anyway;
calls that could not be resolved are listed, and make the status ``likely`` instead of
``certain``, as does a dispatch recognised only through config or by a name, or reached
only through an override or a same-named method picked for a receiver of unknown class.
"""

from __future__ import annotations

from typing import Any

from .budget import SEARCH_CUT, STOPPED, stop_reason
from .callgraph import (
    CHOSEN_SERIALIZER,
    GIVEN_CALLABLE,
    LIBRARY_SIGNAL,
    METHOD_BY_NAME,
    MODULE_BY_NAME,
    UNREADABLE,
    CallGraph,
    Found,
)
from .markers import (
    BACKGROUND,
    BY_CONFIG,
    DISPATCH,
    EAGER_MODE,
    INLINE_FALLBACK,
    SETTING_GUARD,
    UNRESOLVED_CALL,
    UNRESOLVED_DISPATCH,
)
from .registries import UNFILLED
from .report import (
    CERTAIN,
    INLINE,
    INPROCESS,
    LIKELY,
    OFFLOADED,
    UNRESOLVED,
    Endpoint,
    Evidence,
    Status,
    Unresolved,
)
from .routes import EndpointDecl

MAX_EVIDENCE = 30
UNDECIDED_DISPATCH = "could not tell whether the receiver of this call is a task"
UNKNOWN_RECEIVER = "a method of the project called on an object of unknown type"
GIVEN_RECEIVER = "a callable the object was given when it was made, not found in the project"
LIBRARY_RECEIVERS = "a signal of an installed package: the receivers it connects are not read"
MODULE_CHOSEN = "a module imported by a name computed at run time: which one is not known"
METHOD_CHOSEN = "a method of the project's class picked by a name computed at run time"
UNREADABLE_FILE = "in a file of the project the audit could not parse (see skipped)"
SERIALIZER_CHOSEN = (
    "the serializer class the view's get_serializer_class() returns is chosen at run time:"
    " what its save() runs is not seen"
)
TRACE_FAILED = "the audit failed while tracing this endpoint (please report it)"
MAX_UNRESOLVED = 20  # per endpoint, nearest the handler first
UNSEEN = frozenset({UNRESOLVED_CALL, UNRESOLVED_DISPATCH, SEARCH_CUT})
NOT_HEAVY = frozenset(
    {DISPATCH, BACKGROUND, INLINE_FALLBACK, SETTING_GUARD, EAGER_MODE, UNFILLED} | UNSEEN
)
_ORDER = {DISPATCH: 0, SETTING_GUARD: 1, INLINE_FALLBACK: 2, EAGER_MODE: 3, BACKGROUND: 4}


def is_heavy_kind(kind: str) -> bool:
    """Every evidence kind that is not a dispatch, a hand-off or a flag names slow work."""
    return kind not in NOT_HEAVY


def _finding(
    decl: EndpointDecl, feature: str, status: Status, heavy: bool, **found: Any
) -> Endpoint:
    """The endpoint ``decl`` declares, with what its trace found."""
    return Endpoint(
        file=decl.file,
        line=decl.line,
        handler=decl.handler,
        framework=decl.framework,
        methods=tuple(decl.methods),
        route=decl.route,
        status=status,
        heavy=heavy,
        feature=feature,
        route_note=decl.route_note,
        **found,
    )


class Classifier:
    """Turns declared endpoints into findings."""

    def __init__(self, graph: CallGraph, eager: list[Evidence], max_depth: int) -> None:
        self.graph = graph
        self.eager = eager
        self.max_depth = max_depth

    def endpoint(self, decl: EndpointDecl, feature: str) -> Endpoint:
        """The finding; a defect of the audit met on this endpoint's trace makes it
        ``unresolved`` with the error as the reason, and costs no other endpoint."""
        try:
            return self._traced(decl, feature)
        except Exception as exc:  # a defect of the audit: this endpoint only
            reason = f"{TRACE_FAILED} ({type(exc).__name__}: {exc})"
            return _finding(decl, feature, UNRESOLVED, False, confidence="", reason=reason)

    def _traced(self, decl: EndpointDecl, feature: str) -> Endpoint:
        graph, entries = self.graph, decl.entries
        found = graph.trace(entries, self.max_depth, decl.selftype) if entries else []
        if any(f.site.kind == DISPATCH for f in found):
            # a dispatch found before the cut decides the status: what lies past it cannot
            # undo it, so the cut is not a gap in what the report claims
            found = [f for f in found if f.site.kind != SEARCH_CUT]
        kinds = {f.site.kind for f in found}
        heavy = any(is_heavy_kind(k) for k in kinds)
        unseen = self.unseen(found)
        dispatches = [f.site for f in found if f.site.kind == DISPATCH]
        # every dispatch reached only through a guess of a receiver's class: possible
        guessed = all(f.guessed for f in found if f.site.kind == DISPATCH)
        status: Status
        reason = ""
        confidence = LIKELY if unseen or decl.route_note else CERTAIN
        if decl.library and not decl.entries:
            # a library's own view: likely, for the route note (one a project class
            # derives from is judged by the methods the class defines, item 188)
            status = INLINE
        elif not decl.entries:
            status, confidence = UNRESOLVED, ""
            reason = "the handler could not be found in the project"
        elif dispatches:
            status = OFFLOADED
            plain = any(not site.note for site in dispatches)
            if not plain or SETTING_GUARD in kinds or guessed:
                confidence = LIKELY
        elif UNFILLED in kinds:
            status, confidence = UNRESOLVED, ""
            site = next(f.site for f in found if f.site.kind == UNFILLED)
            reason = (
                f"enqueues what the registry {site.note} holds ({site.call} at "
                f"{site.file}:{site.line}); it starts empty and nothing in the project fills it"
            )
        elif UNRESOLVED_DISPATCH in kinds:
            status, confidence = UNRESOLVED, ""
            first = next(u for u in unseen if u.reason == UNDECIDED_DISPATCH)
            reason = f"{UNDECIDED_DISPATCH}: {first.call} at {first.file}:{first.line}"
        elif BACKGROUND in kinds:
            status = INPROCESS
            if all(f.guessed for f in found if f.site.kind == BACKGROUND):
                confidence = LIKELY  # every hand-off reached through a guessed receiver
        else:
            status = INLINE
            if heavy and all(f.guessed for f in found if is_heavy_kind(f.site.kind)):
                confidence = LIKELY  # heavy only through receivers guessed by name (item 241)
        evidence = self.evidence(found, status)
        return _finding(
            decl,
            feature,
            status,
            heavy,
            evidence=tuple(evidence),
            confidence=confidence,
            reason=reason,
            unresolved_calls=tuple(unseen),
            uses_config=status == OFFLOADED and all(s.note == BY_CONFIG for s in dispatches),
        )

    @staticmethod
    def unseen(found: list[Found]) -> list[Unresolved]:
        """Calls on the way that could not be resolved, each once, nearest first."""
        items: dict[tuple[str, int, str], Unresolved] = {}
        for item in sorted(found, key=lambda f: len(f.via)):
            site = item.site
            if site.kind in UNSEEN and (site.file, site.line, site.call) not in items:
                if site.kind == SEARCH_CUT:
                    why = stop_reason(site.note, site.file, site.line, site.call)
                elif site.kind == UNRESOLVED_DISPATCH:
                    why = UNDECIDED_DISPATCH
                elif site.note == GIVEN_CALLABLE:
                    why = GIVEN_RECEIVER
                elif site.note == LIBRARY_SIGNAL:
                    why = LIBRARY_RECEIVERS
                elif site.note == MODULE_BY_NAME:
                    why = MODULE_CHOSEN
                elif site.note == METHOD_BY_NAME:
                    why = METHOD_CHOSEN
                elif site.note == UNREADABLE:
                    why = UNREADABLE_FILE
                elif site.note == CHOSEN_SERIALIZER:
                    why = SERIALIZER_CHOSEN
                else:
                    why = UNKNOWN_RECEIVER
                items[(site.file, site.line, site.call)] = Unresolved(
                    site.file, site.line, site.call, why
                )
        listed = list(items.values())
        kept = listed[:MAX_UNRESOLVED]
        cut = next((u for u in listed if u.reason.startswith(STOPPED)), None)
        if cut is not None and cut not in kept:
            kept[-1] = cut  # where the search stopped is always said
        return kept

    def evidence(self, found: list[Found], status: Status) -> list[Evidence]:
        items: list[Evidence] = []
        seen: set[tuple[str, int, str]] = set()
        for item in found:
            site = item.site
            if status != OFFLOADED and site.kind in (SETTING_GUARD, INLINE_FALLBACK):
                continue
            if site.kind in UNSEEN:
                continue
            key = (site.file, site.line, site.kind)
            if key not in seen:
                seen.add(key)
                items.append(
                    Evidence(site.file, site.line, site.kind, site.call, item.via, site.system)
                )
        if status == OFFLOADED:
            items.extend(self.eager[:1])
        items.sort(key=lambda e: (_ORDER.get(e.kind, 5), len(e.via)))
        return items[:MAX_EVIDENCE]
