"""A real Celery app with sample tasks modelled on the seeds, for the demo worker and the tests.

Run it with `celery -A worker_tasks worker -E`; it reads CONTROLPLANE_BROKER_URL and
CONTROLPLANE_RESULT_BACKEND like the console does.
"""

from worker_tasks import tasks  # noqa: F401 - registers the tasks
from worker_tasks.app import app

__all__ = ["app"]
