"""Failure groups: final failures grouped by cause, like issues in an error tracker.

fingerprint (pure: exception, traceback -> cause), ingest (the events writer's hook: each new
final FAILURE is added to its group in the batch's own transaction, no rescans), groups (the
page and API read side), actions (resolve, ignore, retry a group through control/).
"""
