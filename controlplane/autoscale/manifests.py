"""Kubernetes manifests with a queue's numbers filled in (the KEDA ScaledObject).

The template lives in the package (controlplane/autoscale/templates/) so that an installed
console can print it; deploy/k8s/keda-scaledobject.yaml is the same template rendered with
the example values in EXAMPLE, and a test keeps the two equal.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from urllib.parse import urlsplit

from controlplane.errors import ControlplaneError

# HPA behaviour that deploy/k8s ships and bench/autoscale_sim.py assumes.
HPA_SCALE_DOWN_WINDOW_SECONDS = 60  # short: the recommendation holds its own window
SCALE_UP_PODS = 20  # per 15 s, or +100%, whichever is more

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_QUEUE = re.compile(r"[\w.:@\-]{1,200}")  # the names config.py accepts in CONTROLPLANE_QUEUES

EXAMPLE = {
    "queue": "default",
    "namespace": "celery",
    "deployment": "celery-worker",
    "prometheus_url": "http://prometheus.monitoring.svc:9090",
    "min_replicas": 1,
    "max_replicas": 50,
}


class ManifestError(ControlplaneError, ValueError):
    """A value that would make a broken or unsafe manifest."""


def keda_scaled_object(
    queue: str,
    namespace: str,
    deployment: str,
    prometheus_url: str,
    min_replicas: int,
    max_replicas: int,
    *,
    polling_interval: int = 15,
    cooldown_period: int = 300,
    scale_down_window: int = HPA_SCALE_DOWN_WINDOW_SECONDS,
    scale_up_pods: int = SCALE_UP_PODS,
    fallback_replicas: int | None = None,
) -> str:
    """A KEDA ScaledObject (YAML text) scaling `deployment` on the queue's recommendation.

    `fallback_replicas` (default: `max_replicas`) is what runs while Prometheus cannot be
    queried: erring towards too many workers keeps work flowing.
    """
    if not _QUEUE.fullmatch(queue):
        raise ManifestError(f"queue {queue!r}: letters, digits and _ . : @ - only")
    for label, value in (("namespace", namespace), ("deployment", deployment)):
        if not _DNS_LABEL.fullmatch(value):
            raise ManifestError(f"{label} {value!r} is not a Kubernetes name (RFC 1123 label)")
    parts = urlsplit(prometheus_url)
    unsafe = re.search(r"[\s'\"]", prometheus_url)
    if unsafe or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ManifestError(f"prometheus_url {prometheus_url!r}: expected http(s)://host:port")
    numbers = {
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "polling_interval": polling_interval,
        "cooldown_period": cooldown_period,
        "scale_down_window": scale_down_window,
        "scale_up_pods": scale_up_pods,
        "fallback_replicas": max_replicas if fallback_replicas is None else fallback_replicas,
    }
    for label, number in numbers.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ManifestError(f"{label} must be a whole number >= 0, got {number!r}")
    if max_replicas < 1 or min_replicas > max_replicas:
        raise ManifestError(
            f"need 0 <= min_replicas <= max_replicas, max >= 1: {min_replicas}..{max_replicas}"
        )
    if polling_interval < 1:
        raise ManifestError("polling_interval must be at least 1 second")
    return _template("keda-scaledobject.yaml").substitute(
        queue=queue,
        queue_json=json.dumps(queue),
        name=_object_name(deployment, queue),
        namespace=namespace,
        deployment=deployment,
        prometheus_url_json=json.dumps(prometheus_url),
        **{key: str(value) for key, value in numbers.items()},
    )


def _object_name(deployment: str, queue: str) -> str:
    """`<deployment>-<queue>` as a Kubernetes name: lower case, other characters as '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", queue.lower()).strip("-") or "queue"
    return f"{deployment}-{slug}"[:63].rstrip("-")


def _template(name: str) -> Template:
    text = resources.files("controlplane.autoscale").joinpath("templates", name).read_text("utf-8")
    return Template(text)
