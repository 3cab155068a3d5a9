"""The audit's result: small records, and their JSON shape (ARCHITECTURE.md, version 2).

Version 2 (issue 14) says what the audit could not see: a fourth status, ``unresolved``
(with its ``reason``), a ``confidence`` (``certain`` / ``likely``) on the other three, the
calls it could not resolve per endpoint, and the route registrations it could not interpret.

Detection builds these; every formatter, the gate, the console and the database read them.
``Report.as_dict()`` is the JSON document; ``Report.from_dict()`` reads one back (a
baseline for the ratchet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import BaselineError

Status = Literal["offloaded", "inline", "inprocess_background", "unresolved"]
OFFLOADED: Status = "offloaded"
INLINE: Status = "inline"
INPROCESS: Status = "inprocess_background"
UNRESOLVED: Status = "unresolved"
STATUSES: tuple[Status, ...] = (OFFLOADED, INLINE, INPROCESS, UNRESOLVED)
CERTAIN = "certain"  # every call on the way was understood and nothing rests on config
LIKELY = "likely"  # some call was not understood, or the result rests on config or a name
REPORT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Something the audit saw but could not interpret: a call or a route registration."""

    file: str
    line: int
    call: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "call": self.call, "reason": self.reason}

    @classmethod
    def from_dict(cls, raw: Any) -> Unresolved:
        return cls(str(raw["file"]), int(raw["line"]), str(raw["call"]), str(raw["reason"]))


@dataclass(frozen=True, slots=True)
class Evidence:
    """One call that decided something about an endpoint, and how the handler reached it."""

    file: str
    line: int
    kind: str  # dispatch, background, a heavy kind (http, dataframe, ...), or a flag
    call: str
    via: tuple[str, ...]  # "file:function" from the handler to the function holding the call
    queue_system: str = ""  # on a dispatch: celery, rq, dramatiq, huey, arq, taskiq

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "kind": self.kind,
            "call": self.call,
            "via": list(self.via),
        }
        if self.queue_system:
            out["queue_system"] = self.queue_system
        return out


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A finding: one HTTP endpoint and what it does with its work."""

    file: str
    line: int
    handler: str  # "func" or "Class.method"
    framework: str
    methods: tuple[str, ...]
    route: str
    status: Status
    heavy: bool
    evidence: tuple[Evidence, ...] = ()
    feature: str = ""
    confidence: str = CERTAIN  # "" when the status is unresolved
    reason: str = ""  # why the status is unresolved
    unresolved_calls: tuple[Unresolved, ...] = ()
    uses_config: bool = False  # the status rests on a configured wrapper or task name
    route_note: str = ""  # why the route itself is not certain (found by convention, ...)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...], str]:
        """Identity across runs, for the baseline comparison: one handler may serve several
        routes, each its own endpoint."""
        return (self.file, self.handler, self.methods, self.route)

    @property
    def is_gap(self) -> bool:
        """Work that still blocks a web worker or lives in its process."""
        return self.status == INPROCESS or (self.status == INLINE and self.heavy)

    def kinds(self) -> list[str]:
        """Evidence kinds in order of first appearance."""
        seen: dict[str, None] = {}
        for item in self.evidence:
            seen.setdefault(item.kind, None)
        return list(seen)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "handler": self.handler,
            "framework": self.framework,
            "methods": list(self.methods),
            "route": self.route,
            "status": self.status,
            "heavy": self.heavy,
            "confidence": self.confidence,
            "reason": self.reason,
            "uses_config": self.uses_config,
            "evidence": [e.as_dict() for e in self.evidence],
            "unresolved_calls": [u.as_dict() for u in self.unresolved_calls],
            "route_note": self.route_note,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file the audit could not read or parse."""

    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class Suppressed:
    """An endpoint left out of the figures by a suppression in the config."""

    endpoint: Endpoint
    reason: str


@dataclass(frozen=True, slots=True)
class Summary:
    endpoints: int
    offloaded: int
    inline: int
    inline_heavy: int
    inprocess_background: int
    unresolved: int = 0

    @property
    def resolved(self) -> int:
        return self.endpoints - self.unresolved

    @property
    def coverage(self) -> float:
        """Offloaded share of the resolved endpoints that have work worth offloading, in %.

        Unresolved endpoints are outside both sides of the ratio: the figure is over what
        the audit could see, and is always shown beside the unresolved count.
        """
        denominator = self.movable
        return 100.0 if denominator == 0 else round(100.0 * self.offloaded / denominator, 1)

    @property
    def movable(self) -> int:
        """Resolved endpoints with work worth offloading: the coverage's denominator."""
        return self.offloaded + self.inline_heavy + self.inprocess_background

    @property
    def coverage_text(self) -> str:
        """``62.0% of the 50 endpoints with work to move are offloaded; 180 resolved, 14
        unresolved``: what the percentage is of, said with it (spot checks read "62.0% of
        180 resolved" as a share of all endpoints)."""
        counts = f"{self.resolved} resolved, {self.unresolved} unresolved"
        if self.movable == 0:
            return f"{self.coverage:.1f}%: no endpoint has work to move; {counts}"
        return (
            f"{self.coverage:.1f}% of the {self.movable} endpoints with work to move are "
            f"offloaded; {counts}"
        )


@dataclass(slots=True)
class Report:
    """Everything one audit run found under ``root``."""

    root: str
    endpoints: list[Endpoint]
    skipped: list[Skipped] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    unrecognized: list[Unresolved] = field(default_factory=list)  # registrations not understood

    @property
    def summary(self) -> Summary:
        counts = {status: 0 for status in STATUSES}
        heavy = 0
        for endpoint in self.endpoints:
            counts[endpoint.status] += 1
            heavy += endpoint.status == INLINE and endpoint.heavy
        return Summary(
            len(self.endpoints),
            counts[OFFLOADED],
            counts[INLINE],
            heavy,
            counts[INPROCESS],
            counts[UNRESOLVED],
        )

    def unrecognized_by_file(self) -> dict[str, list[Unresolved]]:
        """Route registrations not understood, per file, files in name order."""
        groups: dict[str, list[Unresolved]] = {}
        for item in self.unrecognized:
            groups.setdefault(item.file, []).append(item)
        return dict(sorted(groups.items()))

    def features(self) -> dict[str, list[Endpoint]]:
        """Endpoints grouped by feature, features in name order."""
        groups: dict[str, list[Endpoint]] = {}
        for endpoint in self.endpoints:
            groups.setdefault(endpoint.feature, []).append(endpoint)
        return dict(sorted(groups.items()))

    def as_dict(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "version": REPORT_VERSION,
            "root": self.root,
            "summary": {
                "endpoints": summary.endpoints,
                "offloaded": summary.offloaded,
                "inline": summary.inline,
                "inprocess_background": summary.inprocess_background,
                "unresolved": summary.unresolved,
                "resolved": summary.resolved,
                "coverage": summary.coverage,
                "coverage_text": summary.coverage_text,
                "unrecognized_registrations": len(self.unrecognized),
            },
            "endpoints": [e.as_dict() for e in self.endpoints],
            "unrecognized_registrations": [u.as_dict() for u in self.unrecognized],
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Read a JSON report back; raises BaselineError when it is not one."""
        try:
            if data.get("version") not in READABLE_VERSIONS:
                raise BaselineError(f"unsupported report version {data.get('version')!r}")
            endpoints = []
            for raw in data["endpoints"]:
                status = raw["status"]
                if status not in STATUSES:
                    raise BaselineError(f"unknown status {status!r}")
                evidence = tuple(
                    Evidence(
                        e["file"],
                        int(e["line"]),
                        e["kind"],
                        e["call"],
                        tuple(e["via"]),
                        str(e.get("queue_system", "")),
                    )
                    for e in raw.get("evidence", [])
                )
                endpoints.append(
                    Endpoint(
                        file=raw["file"],
                        line=int(raw["line"]),
                        handler=raw["handler"],
                        framework=raw.get("framework", ""),
                        methods=tuple(raw.get("methods", [])),
                        route=raw.get("route", ""),
                        status=status,
                        heavy=bool(raw["heavy"]),
                        evidence=evidence,
                        confidence=str(raw.get("confidence", CERTAIN)),
                        reason=str(raw.get("reason", "")),
                        unresolved_calls=tuple(
                            Unresolved.from_dict(u) for u in raw.get("unresolved_calls", [])
                        ),
                        uses_config=bool(raw.get("uses_config", False)),
                        route_note=str(raw.get("route_note", "")),
                    )
                )
            skipped = [Skipped(s["file"], s["reason"]) for s in data.get("skipped", [])]
            unrecognized = [
                Unresolved.from_dict(u) for u in data.get("unrecognized_registrations", [])
            ]
            return cls(
                root=str(data.get("root", "")),
                endpoints=endpoints,
                skipped=skipped,
                unrecognized=unrecognized,
            )
        except BaselineError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BaselineError(f"not an audit report: {exc!r}") from None
