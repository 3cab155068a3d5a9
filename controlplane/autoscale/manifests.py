"""Kubernetes manifests with a queue's numbers filled in: KEDA ScaledObject and ScaledJob.

The templates live in the package (controlplane/autoscale/templates/) so that an installed
console can print them; deploy/k8s/keda-scaledobject.yaml and keda-scaledjob.yaml are the same
templates rendered with the example values in EXAMPLE and JOB_EXAMPLE, and tests keep them
equal. A ScaledObject scales a worker Deployment on the recommendation; the ScaledJob runs
long tasks one per Job, which scale-down never interrupts.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any
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


JOB_EXAMPLE = {
    "queue": "slow",
    "namespace": "celery",
    "name": "celery-job",
    "image": "registry.example/fleet-worker:1.0",
    "celery_app": "proj",
    "prometheus_url": "http://prometheus.monitoring.svc:9090",
    "max_replicas": 50,
}
_IMAGE = re.compile(r"[\w.\-/:@]{1,255}")
_APP = re.compile(r"[\w.:]{1,200}")


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
    numbers = {
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "polling_interval": polling_interval,
        "cooldown_period": cooldown_period,
        "scale_down_window": scale_down_window,
        "scale_up_pods": scale_up_pods,
        "fallback_replicas": max_replicas if fallback_replicas is None else fallback_replicas,
    }
    _check(queue, namespace, ("deployment", deployment), prometheus_url, numbers)
    if max_replicas < 1 or min_replicas > max_replicas:
        raise ManifestError(
            f"need 0 <= min_replicas <= max_replicas, max >= 1: {min_replicas}..{max_replicas}"
        )
    return _template("keda-scaledobject.yaml").substitute(
        queue=queue,
        queue_json=json.dumps(queue),
        name=_object_name(deployment, queue),
        namespace=namespace,
        deployment=deployment,
        prometheus_url_json=json.dumps(prometheus_url),
        **{key: str(value) for key, value in numbers.items()},
    )


def keda_scaled_job(
    queue: str,
    namespace: str,
    name: str,
    image: str,
    celery_app: str,
    prometheus_url: str,
    max_replicas: int,
    *,
    polling_interval: int = 15,
    idle_seconds: int = 60,
    active_deadline: int = 3600,
    acks_late: bool = True,
) -> str:
    """A KEDA ScaledJob (YAML text) running `queue`'s tasks one per Job.

    `acks_late` (the fleet's task_acks_late) picks KEDA's scaling strategy: with it, a running
    Job's task stays reserved and counts in the trigger, which the default strategy subtracts;
    without it, the task is acknowledged when it starts and "accurate" fits.
    """
    numbers = {
        "max_replicas": max_replicas,
        "polling_interval": polling_interval,
        "idle_seconds": idle_seconds,
        "active_deadline": active_deadline,
    }
    _check(queue, namespace, ("name", name), prometheus_url, numbers)
    if max_replicas < 1:
        raise ManifestError(f"max_replicas must be at least 1, got {max_replicas!r}")
    if not _IMAGE.fullmatch(image):
        raise ManifestError(f"image {image!r}: expected a container image reference")
    if not _APP.fullmatch(celery_app):
        raise ManifestError(f"celery_app {celery_app!r}: expected a module such as proj.celery")
    selector = f'{{queue_name="{queue}"}}'
    query = (
        f"(max(controlplane_queue_ready{selector}) + "
        f"(max(controlplane_queue_reserved{selector}) or vector(0))) * "
        f"(1 - (max(controlplane_queue_paused{selector}) or vector(0)))"
    )
    return _template("keda-scaledjob.yaml").substitute(
        queue=queue,
        queue_json=json.dumps(queue),
        name=_object_name(name, queue),
        namespace=namespace,
        image_json=json.dumps(image),
        app_json=json.dumps(celery_app),
        prometheus_url_json=json.dumps(prometheus_url),
        query=query,
        strategy="default" if acks_late else "accurate",
        **{key: str(value) for key, value in numbers.items()},
    )


def _check(
    queue: str,
    namespace: str,
    name: tuple[str, str],
    prometheus_url: str,
    numbers: dict[str, Any],
) -> None:
    """Refuse values that would make a broken or unsafe manifest."""
    if not _QUEUE.fullmatch(queue):
        raise ManifestError(f"queue {queue!r}: letters, digits and _ . : @ - only")
    for label, value in (("namespace", namespace), name):
        if not _DNS_LABEL.fullmatch(value):
            raise ManifestError(f"{label} {value!r} is not a Kubernetes name (RFC 1123 label)")
    parts = urlsplit(prometheus_url)
    unsafe = re.search(r"[\s'\"]", prometheus_url)
    if unsafe or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ManifestError(f"prometheus_url {prometheus_url!r}: expected http(s)://host:port")
    for label, number in numbers.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ManifestError(f"{label} must be a whole number >= 0, got {number!r}")
    if numbers.get("polling_interval", 1) < 1:
        raise ManifestError("polling_interval must be at least 1 second")


def _object_name(deployment: str, queue: str) -> str:
    """`<deployment>-<queue>` as a Kubernetes name: lower case, other characters as '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", queue.lower()).strip("-") or "queue"
    return f"{deployment}-{slug}"[:63].rstrip("-")


def _template(name: str) -> Template:
    text = resources.files("controlplane.autoscale").joinpath("templates", name).read_text("utf-8")
    return Template(text)
