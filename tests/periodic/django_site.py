"""A Django site with django-celery-beat on a SQLite file, for the schedule-source test.

    python tests/periodic/django_site.py DB_PATH setup QUEUE   (migrate, add periodic tasks)

Imported by the beat app of the test too (`configure(DB_PATH)`), so beat's DatabaseScheduler
and the test read the same tables.
"""

from __future__ import annotations

import json
import sys


def configure(db_path: str) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            INSTALLED_APPS=["django_celery_beat"],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
            USE_TZ=True,
            TIME_ZONE="UTC",
            CELERY_TIMEZONE="UTC",
        )
        django.setup()


def setup(db_path: str, queue: str) -> None:
    configure(db_path)
    from django.core.management import call_command
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
    )

    call_command("migrate", verbosity=0)
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="ping", task="worker_tasks.tasks.add", interval=every,
                                args=json.dumps([4, 4]), queue=queue)  # fmt: skip
    nightly = CrontabSchedule.objects.create(minute="30", hour="2", timezone="Europe/Paris")
    PeriodicTask.objects.create(name="nightly", task="worker_tasks.tasks.total",
                                crontab=nightly, args=json.dumps([[1, 2]]))  # fmt: skip
    PeriodicTask.objects.create(name="off", task="worker_tasks.tasks.add", interval=every,
                                enabled=False)  # fmt: skip
    import datetime

    once = ClockedSchedule.objects.create(clocked_time=datetime.datetime.now(datetime.UTC))
    PeriodicTask.objects.create(name="once", task="worker_tasks.tasks.add", clocked=once,
                                one_off=True)  # fmt: skip


if __name__ == "__main__":
    setup(sys.argv[1], sys.argv[3])
