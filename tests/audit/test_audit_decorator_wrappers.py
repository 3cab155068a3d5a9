"""A project decorator's wrapper runs when the decorated function is called (PATTERNS.md
round 7, item 22): ``@email_sender def notify(x): return [mail]``, where ``email_sender``'s
``wrapper`` calls the original and then ``send_email(mail)``, which enqueues. Snippets written
for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def deliver(mail):
        return mail
"""
NOTIFY = """
    from functools import wraps

    from app.tasks import deliver


    def send_email(mail):
        deliver.delay(mail)


    def email_sender(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            mails = fn(*args, **kwargs)
            for mail in mails or []:
                send_email(mail)
        return wrapper


    def sends_with(channel):
        def decorator(fn):
            def inner(*args, **kwargs):
                result = fn(*args, **kwargs)
                deliver.delay((channel, result))
                return result
            return inner
        return decorator


    def logged(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            print("calling", fn.__name__)
            return fn(*args, **kwargs)
        return wrapper


    def registered(fn):
        REGISTRY.append(fn)
        return fn


    REGISTRY = []


    @email_sender
    def notify_booking(booking):
        return [f"booked {booking}"]


    @sends_with("sms")
    def notify_sms(booking):
        return f"sms {booking}"


    @logged
    def describe(booking):
        return f"booking {booking}"


    @registered
    def on_cancel(booking):
        return f"cancelled {booking}"
"""
VIEWS = """
    from flask import Blueprint

    from app.notify import describe, notify_booking, notify_sms, on_cancel

    bp = Blueprint("bookings", __name__)


    @bp.route("/book/<int:pk>", methods=["POST"])
    def book(pk):
        notify_booking(pk)
        return "ok"


    @bp.route("/sms/<int:pk>", methods=["POST"])
    def sms(pk):
        notify_sms(pk)
        return "ok"


    @bp.route("/show/<int:pk>")
    def show(pk):
        return describe(pk)


    @bp.route("/cancel/<int:pk>", methods=["POST"])
    def cancel(pk):
        return on_cancel(pk)
"""


def files() -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/notify.py": NOTIFY,
        "app/views.py": VIEWS,
    }


def test_calling_a_decorated_function_runs_its_project_decorators_wrapper(check):
    report = check(
        files(),
        {
            "book": ("offloaded", False),  # wrapper -> send_email -> deliver.delay
            "sms": ("offloaded", False),  # a decorator factory's inner function
            "show": ("inline", False),  # a wrapper that only logs
            "cancel": ("inline", False),  # a decorator returning the function itself
        },
    )
    book = next(e for e in report.endpoints if e.handler == "book")
    [dispatch] = [item for item in book.evidence if item.kind == "dispatch"]
    assert any("email_sender.wrapper" in step for step in dispatch.via), dispatch.via
    for endpoint in report.endpoints:
        # the wrapper's call of the function it wraps is the decorated function itself,
        # followed already: not a call the audit could not see
        calls = [u.call for u in endpoint.unresolved_calls]
        assert not any(call.startswith("fn(") for call in calls), (endpoint.handler, calls)


def test_a_handlers_own_project_decorator_runs_around_it(check):
    views = """
    from functools import wraps

    from flask import Blueprint

    from app.tasks import deliver

    bp = Blueprint("audited", __name__)


    def audited(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            result = fn(*args, **kwargs)
            deliver.delay(fn.__name__)
            return result
        return wrapper


    def timed(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)
        return wrapper


    @bp.route("/audited", methods=["POST"])
    @audited
    def audited_view():
        return "ok"


    @bp.route("/timed")
    @timed
    def timed_view():
        return "ok"
    """
    report = check(
        {"app/__init__.py": "", "app/tasks.py": TASKS, "app/views.py": views},
        {"audited_view": ("offloaded", False), "timed_view": ("inline", False)},
    )
    [endpoint] = [e for e in report.endpoints if e.handler == "audited_view"]
    [dispatch] = [item for item in endpoint.evidence if item.kind == "dispatch"]
    assert dispatch.via[-1].endswith("audited.wrapper"), dispatch.via


# Round 9, item 39: a decorator whose wrapper enqueues the task it wraps
ENQUEUES = """
    from functools import wraps

    from celery import shared_task
    from flask import current_app


    def wants_async():
        return current_app.config.get("ASYNC", True)


    def maybe_async(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            if wants_async():
                return func.delay(*args, **kwargs)
            return func(*args, **kwargs)
        return wrapper


    def logged(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper


    @maybe_async
    @shared_task
    def push(pk):
        return pk


    @maybe_async
    def render(pk):
        return pk


    @logged
    @shared_task
    def index(pk):
        return pk
"""
ENQUEUE_VIEWS = """
    from flask import Blueprint

    from app.jobs import index, push, render

    bp = Blueprint("jobs", __name__)


    @bp.route("/push/<int:pk>", methods=["POST"])
    def push_view(pk):
        push(pk)
        return "ok"


    @bp.route("/render/<int:pk>")
    def render_view(pk):
        return render(pk)


    @bp.route("/index/<int:pk>", methods=["POST"])
    def index_view(pk):
        return index(pk)
"""


def test_a_decorator_that_enqueues_the_task_it_wraps_makes_a_call_of_it_a_dispatch(check):
    report = check(
        {"app/__init__.py": "", "app/jobs.py": ENQUEUES, "app/views.py": ENQUEUE_VIEWS},
        {
            "push_view": ("offloaded", False),  # func.delay in the wrapper: push's own
            "render_view": ("inline", False),  # .delay of a function known to be no task
            "index_view": ("inline", False),  # a wrapper that calls the task in process
        },
    )
    [endpoint] = [e for e in report.endpoints if e.handler == "push_view"]
    [dispatch] = [item for item in endpoint.evidence if item.kind == "dispatch"]
    assert dispatch.call == "func.delay(*args, **kwargs)"
    assert dispatch.via[-1].endswith("maybe_async.wrapper"), dispatch.via


# Round 9, item 51: a decorator factory's arguments are bound in its wrapper
VALIDATING = """
    from functools import wraps

    from rest_framework import serializers, viewsets
    from rest_framework.decorators import action
    from rest_framework.response import Response

    from app.tasks import deliver


    def validate(serializer_type):
        def wrapper_outer(func):
            @wraps(func)
            def wrapper(self, request, *args, **kwargs):
                instance = serializer_type(data=request.data)
                instance.is_valid(raise_exception=True)
                return func(self, request, *args, body=instance, **kwargs)
            return wrapper
        return wrapper_outer


    class UploadSerializer(serializers.Serializer):
        path = serializers.CharField()

        def validate_path(self, path):
            deliver.delay(path)  # checks the path in a worker
            return path


    class PlainSerializer(serializers.Serializer):
        name = serializers.CharField()

        def validate_name(self, name):
            return name.strip()


    class BlueprintViewSet(viewsets.ViewSet):
        @action(detail=False, methods=["post"])
        @validate(UploadSerializer)
        def upload(self, request, body):
            return Response({})

        @action(detail=False, methods=["post"])
        @validate(PlainSerializer)
        def rename(self, request, body):
            return Response({})
"""
VALIDATING_URLS = """
    from rest_framework.routers import SimpleRouter

    from app.views import BlueprintViewSet

    router = SimpleRouter()
    router.register("blueprints", BlueprintViewSet, basename="blueprint")
    urlpatterns = router.urls
"""


def test_a_decorator_factorys_arguments_are_what_its_wrapper_uses(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": VALIDATING,
            "app/urls.py": VALIDATING_URLS,
        },
        {
            "BlueprintViewSet.upload": ("offloaded", False),  # UploadSerializer validated
            "BlueprintViewSet.rename": ("inline", False),  # a serializer that only cleans
        },
    )
