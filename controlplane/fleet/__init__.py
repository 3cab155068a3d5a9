"""The fleet view: queue depth samples, worker health, task history, insights and retention.

Everything here reads what the sampler and the event ingester wrote; pages, the JSON API and
/metrics call these functions and never ask the broker or the workers themselves.
"""
