"""The console's pages and their htmx fragments, one blueprint per module."""
