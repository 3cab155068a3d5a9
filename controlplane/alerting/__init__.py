"""Alerts that reach people (issue 18 part 1): rules over the conditions of fleet/alerts.py,
notification channels, the pending -> firing -> resolved state, silences and delivery.

Only the leading scheduler evaluates rules and delivers; everything it owes is written to the
database first, so a new leader carries on without re-sending or dropping a notification.
"""
