"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

Written by hand: a test checks that every /api/v1 route of the app appears here, so the
document cannot drift from the code without failing the suite.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/responses/Error"}
JSON_BODY = "application/json"


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON_BODY: {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {JSON_BODY: {"schema": schema}}
    return response


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key twice acts once and returns the first answer.",
    "schema": {"type": "string", "maxLength": 128},
}
TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}
HOSTNAME = {"name": "hostname", "in": "path", "required": True, "schema": {"type": "string"}}
QUEUE = {"name": "queue", "in": "path", "required": True, "schema": {"type": "string"}}
RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "integer"}}
FILTER_PARAMS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("state", "name", "queue", "worker", "since", "until", "text", "cursor")
] + [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}},
    {"name": "sort", "in": "query", "required": False,
     "description": "newest (default), oldest, slowest or fastest (runtime: finished only)",
     "schema": {"enum": ["newest", "oldest", "slowest", "fastest"]}},
    {"name": "roots", "in": "query", "required": False, "schema": {"enum": ["1", "true"]},
     "description": "Only tasks that start a workflow"},
]  # fmt: skip

TASK_FILTER = {
    "type": "object",
    "properties": {
        **{
            key: {"type": "string"}
            for key in ("state", "name", "queue", "worker", "since", "until", "text")
        },
        "roots": {"type": "boolean"},
        "not_retried": {"type": "boolean", "description": "only tasks with no console retry"},
    },
    "additionalProperties": False,
}


def _fleet(key: str, item: str) -> dict[str, Any]:
    """A fleet answer: when it was sampled, whether the broker answers, and the rows."""
    return {
        "type": "object",
        "required": ["sampled_at", "stale", "broker", key],
        "properties": {
            "sampled_at": {"type": ["string", "null"], "format": "date-time"},
            "stale": {"type": "boolean"},
            "broker": {"$ref": "#/components/schemas/BrokerState"},
            key: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        },
    }


_NUMBER_OR_NULL = {"type": ["number", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
ALERT_STATE: dict[str, Any] = {
    "type": "object",
    "description": "One occurrence of a rule's alert on a subject (pending, firing, resolved).",
    "required": ["id", "rule", "alert", "subject", "state", "severity"],
    "properties": {
        "id": {"type": "integer"}, "rule": {"type": "string"},
        "alert": {"type": "string", "description": "the condition's name"},
        "subject": {"type": "string"}, "state": {"enum": ["pending", "firing", "resolved"]},
        "severity": {"type": "string"}, "title": {"type": "string"},
        "message": {"type": "string"}, "value": {"type": "number"}, "unit": {"type": "string"},
        "link": {"type": "string"}, "started_at": _TIME, "fired_at": _TIME,
        "resolved_at": _TIME, "notified_at": _TIME,
    },
}  # fmt: skip
ALERTS_ANSWER: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/FleetSample"},
        {
            "type": "object",
            "required": ["all_clear", "alerts", "conditions"],
            "properties": {
                "all_clear": {"type": "boolean", "description": "no condition holds"},
                "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
                "conditions": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/AlertCondition"},
                },
                "states": {"type": "array", "items": ALERT_STATE},
            },
        },
    ]
}
_INT_OR_NULL = {"type": ["integer", "null"]}
_STRING_OR_NULL = {"type": ["string", "null"]}
FLEET_SCHEMAS: dict[str, Any] = {
    "FleetSample": {
        "type": "object",
        "required": ["sampled_at", "stale", "broker"],
        "properties": {
            "sampled_at": {"type": ["string", "null"], "format": "date-time"},
            "stale": {"type": "boolean"},
            "broker": {"$ref": "#/components/schemas/BrokerState"},
        },
    },
    "BrokerState": {
        "type": "object",
        "properties": {
            "reachable": {"type": "boolean"},
            "error": _STRING_OR_NULL,
            "down_since": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "QueueRow": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "ready": {"type": "integer"},
            "unacked": _INT_OR_NULL,
            "scheduled": {"type": "integer"},
            "consumers": {"type": "integer"},
            "concurrency": {"type": "integer"},
            "rate_in_per_min": _NUMBER_OR_NULL,
            "rate_out_per_min": _NUMBER_OR_NULL,
            "oldest_waiting_age_s": _NUMBER_OR_NULL,
            "no_consumer": {"type": "boolean"},
            "recommendation": {
                "description": "recommended workers, as the Queues page and "
                "controlplane_queue_desired_workers show them",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "workers": {"type": "integer"},
                            "reason": {"type": "string"},
                            "unclamped": {"type": "integer"},
                        },
                    },
                ],
            },
            "paused": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Pause"}]},
        },
    },
    "Pause": {
        "type": "object",
        "properties": {
            "by": {"type": "string"},
            "since": {"type": "string", "format": "date-time"},
            "backlog_held": {"type": "integer"},
            "held_by_workers": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    },
    "WorkerRow": {
        "type": "object",
        "properties": {
            "hostname": {"type": "string"},
            "status": {"enum": ["online", "late", "offline"]},
            "shutdown": {"type": "boolean"},
            "last_seen": {"type": ["string", "null"], "format": "date-time"},
            "heartbeat_age_s": _NUMBER_OR_NULL,
            "concurrency": _INT_OR_NULL,
            "active": {"type": "integer"},
            "processed": {"type": "integer"},
            "queues": {"type": "array", "items": {"type": "string"}},
            "registered": {"type": "array", "items": {"type": "string"}},
            "software": _STRING_OR_NULL,
            "pid": _INT_OR_NULL,
            "loadavg": _STRING_OR_NULL,
            "reserved": _INT_OR_NULL,
            "scheduled": _INT_OR_NULL,
            "booted_at": {"type": ["string", "null"], "format": "date-time"},
            "held": {
                "type": ["object", "null"],
                "description": "active/reserved/scheduled: [[task id, name]...], a few each",
            },
            "limits": {
                "type": "object",
                "description": "task name -> the rate_limit, "
                "time_limit, soft_time_limit the worker reports running with",
            },
        },
    },
    "Alert": {
        "type": "object",
        "description": "One instance of an alert condition that holds now (fleet/alerts.py).",
        "required": ["alert", "severity", "subject", "value", "unit", "message", "link"],
        "properties": {
            "alert": {"type": "string", "description": "the condition's name (see conditions)"},
            "kind": {"type": "string", "description": "older name of `alert`"},
            "title": {"type": "string"},
            "severity": {"enum": ["critical", "warning"]},
            "subject": {"type": "string", "description": "queue, worker, task id, broker..."},
            "value": {"type": "number", "description": "the number that crossed the threshold"},
            "unit": {"enum": ["s", "tasks", "ratio", "events"]},
            "threshold": _NUMBER_OR_NULL,
            "message": {"type": "string"},
            "link": {"type": "string", "description": "the console page that shows it"},
            "since": {"type": ["string", "null"], "format": "date-time"},
            "acknowledged": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {
                            "by": {"type": "string"},
                            "at": {"type": "string", "format": "date-time"},
                        },
                    },
                ]
            },
        },
    },
    "AlertCondition": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "severity": {"enum": ["critical", "warning"]},
            "summary": {"type": "string"},
            "thresholds": {"type": "object", "description": "the settings it reads, with values"},
            "prometheus_alert": {"type": "string"},
        },
    },
}


_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_PAYLOAD = {
    "description": 'JSON when the stored repr was a literal ([1, 2], {"k": 1}), else the '
    "stored text (cut, redacted objects, custom reprs), or null",
    "type": ["array", "object", "string", "number", "boolean", "null"],
}
TASK_SCHEMAS: dict[str, Any] = {
    "Task": {
        "type": "object",
        "required": ["task_id", "state", "first_seen_at"],
        "properties": {
            "task_id": {"type": "string"},
            "name": _STRING_OR_NULL,
            "state": {"type": "string", "examples": ["PENDING", "STARTED", "SUCCESS", "FAILURE"]},
            "queue": _STRING_OR_NULL, "routing_key": _STRING_OR_NULL,
            "exchange": _STRING_OR_NULL, "worker": _STRING_OR_NULL,
            "args": _PAYLOAD, "kwargs": _PAYLOAD,
            "args_incomplete": {"type": "boolean",
                                "description": "args were redacted or cut when stored"},
            "result": _STRING_OR_NULL, "exception": _STRING_OR_NULL,
            "traceback": _STRING_OR_NULL, "retries": {"type": "integer"},
            "eta": _TIME_OR_NULL, "expires": _TIME_OR_NULL,
            "parent_id": _STRING_OR_NULL, "root_id": _STRING_OR_NULL,
            "retry_of": _STRING_OR_NULL,
            "first_seen_at": {"type": "string", "format": "date-time"},
            "sent_at": _TIME_OR_NULL, "received_at": _TIME_OR_NULL,
            "started_at": _TIME_OR_NULL, "retried_at": _TIME_OR_NULL,
            "finished_at": _TIME_OR_NULL,
            "runtime": _NUMBER_OR_NULL, "queue_wait": _NUMBER_OR_NULL,
            "lost_reason": _STRING_OR_NULL, "state_changed_at": _TIME_OR_NULL,
            "updated_at": {"type": "string", "format": "date-time"},
            "group_id": {**_STRING_OR_NULL,
                         "description": "the canvas group (group or chord header) it belongs to"},
            "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"},
                         "description": "each receive, start, retry and end, oldest first "
                         "(bounded: the first and the last ones are kept)"},
            "deliveries": {"type": "integer",
                           "description": "times a worker received (or started) it"},
            "duplicate": {"type": "boolean",
                          "description": "delivered more often than its autoretries explain: "
                          "the same message ran again (redelivery after a crash or "
                          "visibility timeout)"},
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["at", "kind"],
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "kind": {"enum": ["received", "started", "retried", "succeeded", "failed",
                              "revoked", "rejected"]},
            "host": _STRING_OR_NULL,
            "pid": {"type": ["integer", "null"]},
            "retries": {"type": "integer", "description": "Celery's retry count it carried"},
            "exception": {**_STRING_OR_NULL, "description": "for retries and failures"},
        },
    },
    "TaskPage": {
        "type": "object",
        "required": ["tasks", "next_cursor"],
        "properties": {
            "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
            "next_cursor": {"type": ["string", "null"],
                            "description": "pass as `cursor` for the next page (same sort)"},
        },
    },
    "TaskDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Task"},
            {
                "type": "object",
                "required": ["children", "retried_as", "progress"],
                "properties": {
                    "children": {"type": "array", "items": {"type": "string"}},
                    "retried_as": {"type": "array", "items": {"type": "string"}},
                    "progress": {
                        "oneOf": [
                            {"type": "null"},
                            {"type": "object", "properties": {
                                "current": {"type": "number"}, "total": {"type": "number"},
                                "percent": {"type": "number"}}},
                        ]
                    },
                },
            },
        ]
    },
    "BulkDryRun": {
        "type": "object",
        "required": ["action", "scope", "matched", "cap", "would_act_on", "dry_run", "preview"],
        "properties": {
            "action": {"enum": ["retry", "revoke"]},
            "scope": {"enum": ["selected", "filter"]},
            "selected": {"type": "integer", "description": "ids given (scope selected)"},
            "matched": {"type": "integer", "description": "tasks the selection matches"},
            "not_retried": {"type": "boolean"},
            "already_retried": {"type": "integer", "description": "left out: already retried"},
            "preview": {"type": "array", "description": "the first tasks it would act on",
                        "items": {"type": "object", "properties": {
                            "task_id": {"type": "string"}, "name": _STRING_OR_NULL}}},
            "cap": {"type": "integer", "description": "BULK_MAX: at most this many are acted on"},
            "would_act_on": {"type": "integer"},
            "dry_run": {"const": True},
            "action_id": {"type": "integer"},
        },
    },
}  # fmt: skip


_COUNT = {"type": "integer"}
AUDIT_SCHEMAS: dict[str, Any] = {
    "AuditRun": {
        "type": "object",
        "properties": {
            "id": _COUNT,
            "project": {"type": "string"},
            "root": {"type": "string"},
            "status": {"enum": ["running", "done", "failed"]},
            "error": _STRING_OR_NULL,
            "actor": _STRING_OR_NULL,
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "summary": {
                "type": "object",
                "properties": {
                    "endpoints": _COUNT, "offloaded": _COUNT, "inline": _COUNT,
                    "inline_heavy": _COUNT, "inprocess_background": _COUNT,
                    "coverage": _NUMBER_OR_NULL,
                },
            },
            "files": _COUNT, "files_done": _COUNT, "lines": _COUNT, "skipped_files": _COUNT,
            "analyser_version": _STRING_OR_NULL,
        },
    },
    "AuditEvidence": {
        "type": "object",
        "properties": {
            "file": {"type": "string"}, "line": _COUNT, "kind": {"type": "string"},
            "call": {"type": "string"}, "via": {"type": "array", "items": {"type": "string"}},
        },
    },
    "AuditRunDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/AuditRun"},
            {
                "type": "object",
                "properties": {
                    "features": {"type": "array", "items": {"type": "object"}},
                    "endpoints": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "file": {"type": "string"}, "line": _COUNT,
                            "handler": {"type": "string"}, "framework": {"type": "string"},
                            "methods": {"type": "array", "items": {"type": "string"}},
                            "route": {"type": "string"},
                            "status": {"enum": ["offloaded", "inline", "inprocess_background"]},
                            "heavy": {"type": "boolean"}, "feature": {"type": "string"},
                            "evidence": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/AuditEvidence"}},
                        },
                    }},
                    "skipped": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"file": {"type": "string"}, "reason": {"type": "string"}},
                    }},
                },
            },
        ]
    },
}  # fmt: skip


TASK_NAME = {"name": "task_name", "in": "path", "required": True, "schema": {"type": "string"}}
_SECONDS_OR_NULL = {"type": ["number", "null"], "exclusiveMinimum": 0}
FLEET_CONTROL_PATHS: dict[str, Any] = {
    "/queues/{queue}/pause": {"post": {
        "summary": "Pause a queue on every worker, kept across worker restarts (admin)",
        "parameters": [QUEUE, IDEMPOTENCY],
        "responses": {"200": _ok("Paused: cancelled_on, not_answered, held_by_workers"),
                      **_errors(400, 403, 409, 503)},
    }},
    "/queues/{queue}/resume": {"post": {
        "summary": "Resume a paused queue on the workers that consumed it (admin)",
        "parameters": [QUEUE, IDEMPOTENCY],
        "responses": {"200": _ok("Resumed: resumed_on, not_answered"),
                      **_errors(400, 403, 409, 503)},
    }},
    "/tasks/{task_id}/workflow": {"get": {
        "summary": "The task's whole canvas: nodes, edges, groups, and what cannot be known",
        "parameters": [TASK_ID],
        "responses": {"200": _ok("Workflow"), **_errors(404)},
    }},
    "/task-limits": {"get": {
        "summary": "Runtime rate and time limits in force, with the code's values",
        "responses": {"200": _ok("Limits")},
    }},
    "/task-limits/{task_name}/rate": {"post": {
        "summary": "Set a task's rate limit on every worker, kept across restarts (operator)",
        "parameters": [TASK_NAME, IDEMPOTENCY],
        "requestBody": _body({"type": "object", "properties": {
            "rate_limit": {"type": ["string", "null"], "example": "10/m"}}}),
        "responses": {"200": _ok("Applied: applied_on, refused_by, not_answered"),
                      **_errors(400, 403, 404, 503)},
    }},
    "/task-limits/{task_name}/time": {"post": {
        "summary": "Set a task's soft and hard time limits, kept across restarts (admin)",
        "parameters": [TASK_NAME, IDEMPOTENCY],
        "requestBody": _body({"type": "object", "properties": {
            "soft": _SECONDS_OR_NULL, "hard": _SECONDS_OR_NULL}}),
        "responses": {"200": _ok("Applied"), **_errors(400, 403, 404, 503)},
    }},
    "/task-limits/{task_name}/{which}/reset": {"post": {
        "summary": "Send the code's value back and stop re-applying ours (rate: operator, "
                   "time: admin)",
        "parameters": [TASK_NAME, {"name": "which", "in": "path", "required": True,
                                   "schema": {"enum": ["rate", "time"]}}, IDEMPOTENCY],
        "responses": {"200": _ok("Reset"), **_errors(400, 403, 404, 503)},
    }},
}  # fmt: skip


# Failure groups and schedules (#18 parts 2-3)
GROUP_ID = {"name": "group_id", "in": "path", "required": True, "schema": {"type": "integer"}}
FAILURES_AND_SCHEDULES_PATHS: dict[str, Any] = {
    "/failure-groups": {"get": {
        "summary": "Failure groups by last seen: count, tasks, first/last seen, last 24 h, workers",
        "parameters": [
            {"name": "state", "in": "query", "required": False, "schema": {
                "enum": ["new", "regression", "ongoing", "resolved", "ignored"]}},
            {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
        ],
        "responses": {"200": _ok("Groups"), **_errors(400)},
    }},
    "/failure-groups/{group_id}": {"get": {
        "summary": "One failure group with its sample traceback, latest failures and how many "
                   "were not retried yet",
        "parameters": [GROUP_ID],
        "responses": {"200": _ok("Group"), **_errors(404)},
    }},
    "/schedules": {"get": {
        "summary": "Schedules watched for missed runs: in words, next run, last run, the run "
                   "strip (on_time, late, slow, missed, failed, running), missed runs",
        "responses": {"200": _ok("Schedules")},
    }},
    **{f"/schedules/{{schedule_id}}/{verb}": {"post": {
        "summary": f"{verb.capitalize()} a django-celery-beat entry in the fleet's database "
                   "(admin; 409 unless CONTROLPLANE_DJANGO_BEAT_WRITABLE is on)",
        "parameters": [{"name": "schedule_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": {"200": _ok(verb.capitalize() + "d"), **_errors(403, 404, 409, 503)},
    }} for verb in ("enable", "disable")},
}  # fmt: skip


def document() -> dict[str, Any]:
    from controlplane.web.api.openapi_alerting import ALERTING_PATHS, STATE_PARAM

    action_response = _ok("Accepted", {"$ref": "#/components/schemas/ActionAnswer"})
    paths: dict[str, Any] = {
        "/me": {"get": {"summary": "Who the token belongs to", "responses": {"200": _ok("User")}}},
        "/queues": {"get": {"summary": "Queue depths, consumers, rates (from the sampler); "
                                       "delayed_delivery: RabbitMQ's native delayed ETA tasks",
                            "responses": {"200": _ok("Queues", _fleet("queues", "QueueRow"))}}},
        "/workers": {"get": {"summary": "Workers and their health",
                             "responses": {"200": _ok("Workers", _fleet("workers", "WorkerRow"))}}},
        "/alerts": {"get": {"summary": "Every alert condition and the instances that hold now; "
                                       "`states`: the rules' alert states (?state= history)",
                            "parameters": [STATE_PARAM],
                            "responses": {"200": _ok("Alerts", ALERTS_ANSWER), **_errors(400)}}},
        "/alerts/ack": {
            "post": {
                "summary": "Acknowledge one firing alert instance (who and when, in the action "
                           "log); it clears when the alert stops firing",
                "parameters": [IDEMPOTENCY],
                "requestBody": _body({"type": "object", "required": ["alert", "subject"],
                                      "properties": {"alert": {"type": "string"},
                                                     "subject": {"type": "string"}}}),
                "responses": {"200": _ok("Acknowledged"), **_errors(400, 403)},
            }
        },
        "/workers/{hostname}/forget": {
            "post": {
                "summary": "Forget an offline worker: it leaves the console until it sends "
                           "events again (admin)",
                "parameters": [HOSTNAME, IDEMPOTENCY],
                "responses": {"200": _ok("Forgotten"), **_errors(400, 403, 404)},
            }
        },
        "/task-names": {"get": {"summary": "Task names an operator may trigger, as the "
                                           "scheduler's inspection stored them (reported: "
                                           "false, note: no worker has reported its tasks yet)",
                                "responses": {"200": _ok("Names")}}},
        "/tasks": {
            "get": {
                "summary": "Task history, newest first, keyset pages",
                "parameters": FILTER_PARAMS,
                "responses": {
                    "200": _ok("A page of tasks", {"$ref": "#/components/schemas/TaskPage"}),
                    **_errors(400),
                },
            },
            "post": {
                "summary": "Trigger a registered task",
                "parameters": [IDEMPOTENCY],
                "requestBody": _body({"$ref": "#/components/schemas/Trigger"}),
                "responses": {"202": action_response, **_errors(400, 403, 409, 413, 415, 503)},
            },
        },
        "/tasks/{task_id}": {
            "get": {
                "summary": "One task with its children, retries and progress",
                "parameters": [TASK_ID],
                "responses": {
                    "200": _ok("Task", {"$ref": "#/components/schemas/TaskDetail"}),
                    **_errors(404),
                },
            }
        },
        "/tasks/{task_id}/retry": {
            "post": {
                "summary": "Send a finished task again with its stored args (links retry_of), to "
                "its route or the queue given",
                "parameters": [TASK_ID, IDEMPOTENCY],
                "requestBody": _body(
                    {"type": "object", "properties": {"queue": {"type": "string"}}}, False
                ),
                "responses": {"202": action_response, **_errors(400, 403, 404, 409, 503)},
            }
        },
        "/tasks/{task_id}/revoke": {
            "post": {
                "summary": "Revoke a queued, scheduled or running task",
                "parameters": [TASK_ID, IDEMPOTENCY],
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "terminate": {"type": "boolean"},
                            "signal": {"type": "string", "example": "SIGTERM"},
                        },
                    },
                    required=False,
                ),
                "responses": {"202": action_response, **_errors(400, 403, 404, 409, 503)},
            }
        },
        "/tasks/bulk": {
            "post": {
                "summary": "Retry or revoke the selected tasks, or every task a filter matches "
                "(dry run first)",
                "parameters": [IDEMPOTENCY],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["action", "scope"],
                        "properties": {
                            "action": {"enum": ["retry", "revoke"]},
                            "scope": {"enum": ["selected", "filter"]},
                            "ids": {"type": "array", "items": {"type": "string"},
                                    "description": "scope selected: exactly these tasks"},
                            "filter": TASK_FILTER,
                            "dry_run": {"type": "boolean", "default": True},
                            "not_retried": {"type": "boolean", "description": "retry: leave "
                                            "out tasks already retried (default true)"},
                            "queue": {"type": "string", "description": "retry: instead of "
                                      "each task's route"},
                        },
                        "additionalProperties": False,
                    }
                ),
                "responses": {
                    "200": _ok("Dry run: how many would be acted on",
                               {"$ref": "#/components/schemas/BulkDryRun"}),
                    "202": action_response,
                    **_errors(400, 403),
                },
            }
        },
        "/actions": {
            "get": {
                "summary": "The action log, newest first",
                "parameters": [
                    {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                    for n in ("actor", "action", "target", "outcome", "since", "until", "cursor")
                ],
                "responses": {"200": _ok("A page of actions"), **_errors(400)},
            }
        },
        "/queues/{queue}/purge": {
            "post": {
                "summary": "Delete every waiting message of a queue (admin)",
                "parameters": [QUEUE, IDEMPOTENCY],
                "requestBody": _body(
                    {"type": "object", "required": ["confirm"],
                     "properties": {"confirm": {"type": "string"}}}
                ),
                "responses": {"200": _ok("Purged"), **_errors(400, 403, 503)},
            }
        },
        "/workers/{hostname}/pool": {
            "post": {
                "summary": "Grow (delta > 0) or shrink a worker's pool (admin)",
                "parameters": [HOSTNAME, IDEMPOTENCY],
                "requestBody": _body(
                    {"type": "object", "required": ["delta"],
                     "properties": {"delta": {"type": "integer"}}}
                ),
                "responses": {"200": _ok("Resized"), **_errors(400, 403, 503)},
            }
        },
        "/workers/{hostname}/consumers": {
            "post": {
                "summary": "Make a worker consume a queue (admin)",
                "parameters": [HOSTNAME, IDEMPOTENCY],
                "requestBody": _body(
                    {"type": "object", "required": ["queue"],
                     "properties": {"queue": {"type": "string"}}}
                ),
                "responses": {"200": _ok("Consuming"), **_errors(400, 403, 503)},
            }
        },
        "/workers/{hostname}/consumers/{queue}/cancel": {
            "post": {
                "summary": "Make a worker stop consuming a queue (admin)",
                "parameters": [HOSTNAME, QUEUE, IDEMPOTENCY],
                "responses": {"200": _ok("Cancelled"), **_errors(400, 403, 503)},
            }
        },
        "/audit/runs": {
            "get": {
                "summary": "Audit runs per project, newest first",
                "parameters": [
                    {"name": "project", "in": "query", "required": False,
                     "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "required": False,
                     "description": "Runs per project (1-500, default 20)",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                ],
                "responses": {"200": _ok("Runs", {"type": "object", "properties": {
                    "projects": {"type": "array", "items": {"type": "object", "properties": {
                        "project": {"type": "string"}, "configured": {"type": "boolean"},
                        "runs": {"type": "array",
                                 "items": {"$ref": "#/components/schemas/AuditRun"}},
                    }}}}}), **_errors(400)},
            },
            "post": {
                "summary": "Audit a configured project now, in the background (admin)",
                "parameters": [IDEMPOTENCY],
                "requestBody": _body({"type": "object", "required": ["project"],
                                      "properties": {"project": {"type": "string"}}}),
                "responses": {
                    "202": _ok("Started", {"type": "object", "properties": {
                        "run_id": {"type": "integer"}, "project": {"type": "string"},
                        "status": {"const": "running"}, "action_id": {"type": "integer"}}}),
                    **_errors(400, 403, 404, 409, 415),
                },
            },
        },
        "/audit/runs/{run_id}": {
            "get": {
                "summary": "One audit run: summary, per feature, endpoints with evidence, "
                           "skipped files",
                "parameters": [RUN_ID],
                "responses": {"200": _ok("Run", {"$ref": "#/components/schemas/AuditRunDetail"}),
                              **_errors(404)},
            }
        },
        "/audit/diff": {
            "get": {
                "summary": "What changed between two finished runs of a project",
                "parameters": [
                    {"name": name, "in": "query", "required": True, "schema": {"type": "integer"}}
                    for name in ("a", "b")
                ],
                "responses": {"200": _ok("Endpoints that became inline or offloaded, changed, "
                                         "new and removed"), **_errors(400, 404)},
            }
        },
        "/workers/{hostname}/shutdown": {
            "post": {
                "summary": "Ask a worker to shut down warmly (admin)",
                "parameters": [HOSTNAME, IDEMPOTENCY],
                "responses": {"202": _ok("Requested"), **_errors(400, 403)},
            }
        },
        **FLEET_CONTROL_PATHS,
        **ALERTING_PATHS,
        **FAILURES_AND_SCHEDULES_PATHS,
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "controlplane API",
            "version": "1",
            "description": "Operate a Celery fleet: tasks, actions, queues, workers, audits. "
            "Send `Authorization: Bearer <token>` (from `controlplane users token NAME`).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "The request was refused or failed; `error` says why.",
                    "content": {
                        JSON_BODY: {
                            "schema": {
                                "type": "object",
                                "required": ["error"],
                                "properties": {"error": {"type": "string"}},
                            }
                        }
                    },
                }
            },
            "schemas": {
                **FLEET_SCHEMAS,
                **TASK_SCHEMAS,
                **AUDIT_SCHEMAS,
                "Trigger": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string"},
                        "args": {"type": "array"},
                        "kwargs": {"type": "object"},
                        "queue": {"type": "string"},
                        "countdown": {"type": "number", "minimum": 0},
                        "eta": {"type": "string", "format": "date-time"},
                        "priority": {"type": "integer", "minimum": 0, "maximum": 9},
                    },
                },
                "ActionAnswer": {
                    "type": "object",
                    "properties": {
                        "task_id": {"type": "string"},
                        "retry_of": {"type": ["string", "null"]},
                        "queue": {"type": "string", "description": "where it was sent"},
                        "route": {
                            "type": "object",
                            "description": "why there: the queue typed, the fleet's "
                            "task_routes, or its task_default_queue",
                            "properties": {
                                "queue": {"type": "string"},
                                "reason": {"enum": ["typed", "task_routes", "default"]},
                                "explanation": {"type": "string"},
                            },
                        },
                        "action_id": {"type": "integer"},
                        "idempotent_replay": {"type": "boolean"},
                    },
                },
            },
        },
    }


@bp.get("/api/v1/openapi.json")
def openapi_json() -> Any:
    return jsonify(document())
