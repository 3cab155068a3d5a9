"""Periodic tasks and the runs that did not happen (#18 part 2).

spec (a schedule as data, evaluated with Celery's own schedule / crontab / solar classes, and
in words), sources (the fleet's Celery app's beat_schedule, and schedules inferred from task
history), runs (a schedule's recent runs as slots: on time, late, missed, failed), watch (the
leader's job: refresh the sources, count missed runs), views (the page, API, metrics and
alert read side), run_now (the operator's action).
"""
