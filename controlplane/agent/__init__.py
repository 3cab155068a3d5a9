"""A read-only agent interface: an MCP server (`controlplane mcp`) over the same services.

tools.py reads (fleet status, queue depth, a task, recent failures, the audit summary) as plain
JSON; server.py exposes them through the official MCP SDK over stdio or streamable HTTP, for a
user whose API token has at least the viewer role. Nothing here changes anything.
"""
