"""The JSON API under /api/v1: bearer tokens, the same service calls as the pages."""
