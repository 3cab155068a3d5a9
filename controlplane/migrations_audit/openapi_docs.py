"""Routes connexion serves from an OpenAPI document (PATTERNS.md item 200).

``app.add_api("api.yml", base_path="/v1")`` maps every path and method of the document to
the function its ``operationId`` names (``pkg.routes.items.create``, or ``create`` in the
module an ``x-openapi-router-controller`` names). The document is read from the tree (next
to the module that calls ``add_api``, else the one file of that name), never fetched or
executed; what cannot be read is said, not skipped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024  # an API document bigger than this is not an API document
SUFFIXES = (".yml", ".yaml", ".json")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_CONTROLLER = "x-openapi-router-controller"
_SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "venv", "__pycache__"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One path and method of a document, and the dotted function that serves it."""

    path: str
    method: str
    function: str  # "" when the operation names none (a resolver would choose it)


@dataclass(slots=True)
class Document:
    """A document as read: its operations and the base path its servers give."""

    relpath: str
    operations: list[Operation]
    base_path: str


def is_document_name(value: object) -> bool:
    """Whether an ``add_api`` argument names a document file (not an API class)."""
    return isinstance(value, str) and value.lower().endswith(SUFFIXES)


def locate(root: Path, module_relpath: str, name: str) -> str | None:
    """The document's path relative to ``root``: beside the module that adds it (connexion's
    default ``specification_dir`` is the app's package), else the one file of the tree that
    ends with that name (outside hidden and dependency folders); None when there is none or
    several."""
    beside = PurePosixPath(module_relpath).parent / name
    if (root / beside).is_file():
        return str(beside)
    leaf = PurePosixPath(name).name
    matches = []
    for path in root.rglob(leaf):
        relpath = path.relative_to(root).as_posix()
        parts = relpath.split("/")
        if any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts[:-1]):
            continue
        if (relpath == name or relpath.endswith("/" + name)) and path.is_file():
            matches.append(relpath)
    return matches[0] if len(matches) == 1 else None


def fingerprint(path: Path) -> str | None:
    """The content key of a document the analysis read (the run cache compares it)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read(root: Path, relpath: str) -> Document | str:
    """The document's operations, or why it could not be read."""
    path = root / relpath
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            return f"the OpenAPI document {relpath} is larger than {MAX_DOCUMENT_BYTES} bytes"
        text = path.read_text(encoding="utf-8")
        loaded = json.loads(text) if relpath.endswith(".json") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        return f"the OpenAPI document {relpath} could not be read ({type(error).__name__})"
    if not isinstance(loaded, dict) or not isinstance(loaded.get("paths"), dict):
        return f"the OpenAPI document {relpath} has no paths"
    return Document(relpath, list(_operations(loaded["paths"])), _server_path(loaded))


def _operations(paths: dict[Any, Any]) -> list[Operation]:
    out: list[Operation] = []
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        shared = item.get(_CONTROLLER)
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            operation_id = operation.get("operationId")
            controller = operation.get(_CONTROLLER, shared)
            function = ""
            if isinstance(operation_id, str) and operation_id:
                function = (
                    f"{controller}.{operation_id}"
                    if isinstance(controller, str) and controller
                    else operation_id
                )
            out.append(Operation(path, method.upper(), function))
    return out


def _server_path(document: dict[Any, Any]) -> str:
    """``/v1.0`` of ``servers: [{url: http://host/v1.0}]`` (OpenAPI 3) or of ``basePath``
    (Swagger 2): where connexion mounts the document when ``add_api`` names no base path."""
    base = document.get("basePath")
    if isinstance(base, str):
        return base.rstrip("/")
    servers = document.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str):
            return urlsplit(url).path.rstrip("/")
    return ""
