"""SARIF 2.1.0: one result per endpoint that is inline-heavy or pushes work to a background
task in the web process, with the evidence as related locations."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..facts import ANALYSER_VERSION
from ..report import INPROCESS, Endpoint, Report
from ._common import heavy_kinds, methods_route

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES = [
    {
        "id": "CP001",
        "name": "InlineHeavyEndpoint",
        "shortDescription": {"text": "Endpoint does heavy work inside the request"},
        "fullDescription": {
            "text": "The handler (or code it calls) reads or transforms "
            "data, calls remote services, runs subprocesses or "
            "sleeps, and never submits the work to Celery."
        },
        "help": {"text": "Move the heavy work into a Celery task and return its id."},
        "defaultConfiguration": {"level": "warning"},
    },
    {
        "id": "CP002",
        "name": "InProcessBackgroundEndpoint",
        "shortDescription": {
            "text": "Endpoint pushes work to a background task in the web process"
        },
        "fullDescription": {
            "text": "asyncio tasks, threads, executors or BackgroundTasks "
            "that outlive the response are lost when the web process "
            "restarts and compete with requests for CPU."
        },
        "help": {"text": "Submit the work to Celery instead."},
        "defaultConfiguration": {"level": "warning"},
    },
]


def _location(file: str, line: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(file), "uriBaseId": "SRCROOT"},
            "region": {"startLine": max(line, 1)},
        }
    }


def _result(endpoint: Endpoint) -> dict[str, Any]:
    background = endpoint.status == INPROCESS
    index = 1 if background else 0
    if background:
        message = (
            f"{methods_route(endpoint)} ({endpoint.handler}) hands work to a background "
            f"task in the web process instead of Celery."
        )
    else:
        message = (
            f"{methods_route(endpoint)} ({endpoint.handler}) does heavy work inline: "
            f"{', '.join(heavy_kinds(endpoint))}."
        )
    location = _location(endpoint.file, endpoint.line)
    location["logicalLocations"] = [{"fullyQualifiedName": endpoint.handler, "kind": "function"}]
    fingerprint = hashlib.sha256(
        f"{endpoint.file}\0{endpoint.handler}\0{','.join(endpoint.methods)}".encode()
    ).hexdigest()
    related = []
    for number, evidence in enumerate(endpoint.evidence, start=1):
        item = _location(evidence.file, evidence.line)
        item["id"] = number
        via = " -> ".join(evidence.via)
        item["message"] = {
            "text": f"{evidence.kind}: {evidence.call}" + (f" (via {via})" if via else "")
        }
        related.append(item)
    result: dict[str, Any] = {
        "ruleId": RULES[index]["id"],
        "ruleIndex": index,
        "level": "warning",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"endpoint/v1": fingerprint},
        "properties": {
            "route": endpoint.route,
            "methods": list(endpoint.methods),
            "framework": endpoint.framework,
            "feature": endpoint.feature,
            "status": endpoint.status,
        },
    }
    if related:
        result["relatedLocations"] = related
    return result


def render(report: Report) -> str:
    root = Path(report.root or "/")
    root_uri = (root.as_uri() if root.is_absolute() else quote(report.root)).rstrip("/") + "/"
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"skipped: {skipped.reason}"},
            "locations": [_location(skipped.file, 1)],
        }
        for skipped in report.skipped
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "controlplane-audit",
                "version": ANALYSER_VERSION,
                "rules": RULES,
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": root_uri}},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": [_result(e) for e in report.endpoints if e.is_gap],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
