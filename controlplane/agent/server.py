"""`controlplane mcp`: the read-only tools as an MCP server (official SDK), stdio or HTTP.

Authentication is the console's own API tokens, of a user with at least the viewer role:

- stdio: the token is in CONTROLPLANE_MCP_TOKEN (the MCP client's server configuration sets
  it). It is checked at start-up (a bad one ends the process with one line, exit code 2) and
  again on every tool call, so a revoked token stops working within the token cache's 30 s.
- HTTP (`--http`): every request carries `Authorization: Bearer <token>`; anything else gets
  401 before it reaches the MCP session.

Logs go to stderr: on stdio, stdout carries the protocol.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from controlplane import users
from controlplane.agent import tools
from controlplane.errors import ControlplaneError
from controlplane.services import Services

log = logging.getLogger(__name__)
TOKEN_ENV = "CONTROLPLANE_MCP_TOKEN"  # noqa: S105 - the variable's name, not a token
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
INSTRUCTIONS = (
    "Read-only view of a Celery fleet as controlplane sees it: queue depth (ready, reserved, "
    "scheduled, backlog), workers, alerts, task history and migration audits. Figures come "
    "from the console's latest sample and task history, not live from the broker."
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AgentAuthError(ControlplaneError):
    """No token, an unknown or revoked one, or a user below the viewer role."""


def authenticate(services: Services, token: str | None) -> users.UserRecord:
    """The user of `token`, who must be allowed to view; AgentAuthError otherwise."""
    if not token:
        raise AgentAuthError(f"{TOKEN_ENV}: an API token is required (controlplane users token)")
    user = users.user_for_token(services, token)
    if user is None:
        raise AgentAuthError("the API token is unknown, revoked or its user is disabled")
    if not user.may("viewer"):
        raise AgentAuthError(f"user {user.username!r} may not view the fleet")
    return user


def build_server(services: Services, check: Callable[[], object] = lambda: None) -> MCPServer:
    """The MCP server; `check` runs before every tool (stdio re-checks its token there).

    Our errors reach the agent as the tool's error text (ToolError); any other exception is
    reported by the SDK as a bare "Error executing tool", without internals.
    """
    server = MCPServer(name="controlplane", instructions=INSTRUCTIONS, log_level="WARNING")

    def answer(read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            check()
            return read()
        except ControlplaneError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=READ_ONLY)
    def fleet_status() -> dict[str, Any]:
        """The fleet at a glance: broker reachable, workers online/late/offline, total backlog,
        paused queues and the alerts firing now."""
        return answer(lambda: tools.fleet_status(services))

    @server.tool(annotations=READ_ONLY)
    def queue_depth(queue: str | None = None) -> dict[str, Any]:
        """Depth of every queue, or of `queue`: ready, reserved (prefetched by workers),
        scheduled (ETA), backlog, consumers, rates per minute, pause, recommended workers."""
        return answer(lambda: tools.queue_depth(services, queue))

    @server.tool(annotations=READ_ONLY)
    def task(task_id: str) -> dict[str, Any]:
        """One task by id: state, name, queue, worker, times, arguments (redacted), result or
        exception, retries, children and its workflow's counts."""
        return answer(lambda: tools.task(services, task_id))

    @server.tool(annotations=READ_ONLY)
    def recent_failures(minutes: int = 60, limit: int = 20) -> dict[str, Any]:
        """Tasks that failed in the last `minutes` (1 to 10080), newest first, at most
        `limit` (1 to 200), with their exceptions."""
        return answer(lambda: tools.recent_failures(services, minutes, limit))

    @server.tool(annotations=READ_ONLY)
    def audit_summary() -> dict[str, Any]:
        """Each audited codebase's latest migration audit: endpoints, offloaded to a queue,
        still inline, inline and heavy, coverage."""
        return answer(lambda: tools.audit_summary(services))

    return server


def run_stdio(services: Services, token: str | None) -> None:
    """Serve on stdin/stdout for the one user of `token` (checked now and on every call)."""
    user = authenticate(services, token)
    log.info("MCP on stdio for %s (%s)", user.username, user.role)
    build_server(services, check=lambda: authenticate(services, token)).run("stdio")


def bearer_guard(services: Services, app: ASGIApp) -> ASGIApp:
    """Refuse HTTP requests without the bearer token of a viewer (401, JSON)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise AgentAuthError("authentication required: send Authorization: Bearer")
            authenticate(services, token.strip())
        except AgentAuthError as exc:
            body = json.dumps({"error": str(exc)}).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="controlplane"'),
            ]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return guarded


def run_http(services: Services, host: str, port: int) -> None:
    """Serve streamable HTTP at http://host:port/mcp, every request with its own token."""
    import uvicorn

    app = build_server(services).streamable_http_app(host=host)
    log.info("MCP over HTTP at http://%s:%d/mcp", host, port)
    uvicorn.run(bearer_guard(services, app), host=host, port=port, log_level="warning")
