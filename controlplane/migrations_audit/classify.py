"""Decide each endpoint's status from what its trace reached, and keep the evidence."""

from __future__ import annotations

from .callgraph import CallGraph, Found
from .markers import BACKGROUND, DISPATCH, EAGER_MODE, INLINE_FALLBACK, SETTING_GUARD
from .report import INLINE, INPROCESS, OFFLOADED, Endpoint, Evidence, Status
from .routes import EndpointDecl

MAX_EVIDENCE = 30
NOT_HEAVY = frozenset({DISPATCH, BACKGROUND, INLINE_FALLBACK, SETTING_GUARD, EAGER_MODE})
_ORDER = {DISPATCH: 0, SETTING_GUARD: 1, INLINE_FALLBACK: 2, EAGER_MODE: 3, BACKGROUND: 4}


def is_heavy_kind(kind: str) -> bool:
    """Every evidence kind that is not a dispatch, a hand-off or a flag names slow work."""
    return kind not in NOT_HEAVY


class Classifier:
    """Turns declared endpoints into findings."""

    def __init__(self, graph: CallGraph, eager: list[Evidence], max_depth: int) -> None:
        self.graph = graph
        self.eager = eager
        self.max_depth = max_depth

    def endpoint(self, decl: EndpointDecl, feature: str) -> Endpoint:
        found = self.graph.trace(decl.entries, self.max_depth)
        kinds = {f.site.kind for f in found}
        heavy = any(is_heavy_kind(k) for k in kinds)
        status: Status
        if DISPATCH in kinds:
            status = OFFLOADED
        elif BACKGROUND in kinds:
            status = INPROCESS
        else:
            status = INLINE
        evidence = self.evidence(found, status)
        return Endpoint(
            file=decl.file,
            line=decl.line,
            handler=decl.handler,
            framework=decl.framework,
            methods=tuple(decl.methods),
            route=decl.route,
            status=status,
            heavy=heavy,
            evidence=tuple(evidence),
            feature=feature,
        )

    def evidence(self, found: list[Found], status: Status) -> list[Evidence]:
        items: list[Evidence] = []
        seen: set[tuple[str, int, str]] = set()
        for item in found:
            site = item.site
            if status != OFFLOADED and site.kind in (SETTING_GUARD, INLINE_FALLBACK):
                continue
            key = (site.file, site.line, site.kind)
            if key not in seen:
                seen.add(key)
                items.append(Evidence(site.file, site.line, site.kind, site.call, item.via))
        if status == OFFLOADED:
            items.extend(self.eager[:1])
        items.sort(key=lambda e: (_ORDER.get(e.kind, 5), len(e.via)))
        return items[:MAX_EVIDENCE]
