"""A receiver of unknown type named after its class (PATTERNS.md item 60): ``for cabinet in
form.cleaned_data["cabinets"]: cabinet.archive()`` where three project classes define
``archive``, more than an unknown receiver is guessed among. The one whose class is named
like the receiver (``cabinet`` -> ``Cabinet``, ``index_node`` -> ``IndexNode``) is taken, on a
guess (``likely``); a name no candidate's class has, or ``self``, leaves the call unresolved.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def archive_later(pk):
        return pk
"""
# more classes defining archive(), none dispatching: more candidates than a plain guess takes
UNRELATED = """
    class Shelf:
        def archive(self):
            return self.pk


    class Drawer:
        def archive(self):
            return self.pk
"""
MODELS = """
    from app.tasks import archive_later


    class Cabinet:
        def archive(self):
            archive_later.delay(self.pk)


    class IndexNode:
        def archive(self):
            archive_later.delay(self.pk)
"""
MODELS += UNRELATED
VIEWS = """
    def archive_all(request, form):
        for {name} in form.cleaned_data["items"]:
            {name}.archive()
"""
URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [path("a/", views.archive_all)]
"""


def project(name: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/models.py": MODELS,
        "app/views.py": VIEWS.format(name=name),
        "app/urls.py": URLS,
    }


@pytest.mark.parametrize("name", ["cabinet", "index_node", "indexnode"])
def test_a_receiver_named_after_a_candidate_class_reaches_that_class_on_a_guess(check, name):
    report = check(project(name), {"archive_all": ("offloaded", False)})
    endpoint = report.endpoints[0]
    assert endpoint.confidence == "likely"
    dispatch = next(e for e in endpoint.evidence if e.kind == "dispatch")
    assert "one of the project's methods named archive" in " ".join(dispatch.via)


@pytest.mark.parametrize("name", ["shelf", "item"])
def test_a_receiver_named_after_no_dispatching_class_or_no_class_is_not_offloaded(run_audit, name):
    """``shelf`` is Shelf's (which does not dispatch); ``item`` names no class: unresolved."""
    endpoint = run_audit(project(name)).endpoints[0]
    assert endpoint.status == "inline"
    unresolved = [u.call for u in endpoint.unresolved_calls]
    assert unresolved == ([] if name == "shelf" else [f"{name}.archive()"])


INHERITED = """
    from app.tasks import archive_later


    class ArchiveMixin:
        def archive(self):
            archive_later.delay(self.pk)


    class Cabinet(ArchiveMixin):
        pass
"""
INHERITED += UNRELATED
ARCHIVER = """
    from app.storage import load


    class Archiver:
        def pending(self):
            return load()

        def run(self):
            for cabinet in self.pending():
                cabinet.archive()


    def archive_all(request, form):
        Archiver().run()
"""


def test_the_class_named_like_the_receiver_reaches_a_method_it_inherits(check):
    """``cabinet`` bound to what a call returns (``for cabinet in self.pending()``), and
    ``Cabinet`` inheriting ``archive`` from a mixin: the name as written decides."""
    files = project("cabinet") | {"app/models.py": INHERITED, "app/views.py": ARCHIVER}
    report = check(files, {"archive_all": ("offloaded", False)})
    assert report.endpoints[0].confidence == "likely"


STEPS = """
    from app.tasks import archive_later


    class BaseStep:
        def archive(self):
            pass


    class InfoStep(BaseStep):
        def archive(self):
            archive_later.delay(1)


    class UserStep(BaseStep):
        def archive(self):
            return 2


    class Shelf:
        def archive(self):
            return self.pk
"""


@pytest.mark.parametrize(
    ("name", "status"), [("step", "offloaded"), ("valid_step", "inline"), ("shelf", "inline")]
)
def test_a_receiver_named_after_a_family_of_classes_reaches_the_family(check, name, status):
    """``step`` names no class but ends ``InfoStep``/``UserStep``/``BaseStep``, which share
    the base declaring ``archive`` (Shelf's is not theirs): the family is taken, on a guess.
    ``valid_step`` (``...ValidStep``) names no family; ``shelf`` is Shelf's, which does not
    dispatch (PATTERNS.md item 64)."""
    report = check(project(name) | {"app/models.py": STEPS}, {"archive_all": (status, False)})
    if status == "offloaded":
        assert report.endpoints[0].confidence == "likely"


# Round 11, item 69: the class named like the receiver stands for its subclasses too
PLUGINS = """
    from app.tasks import archive_later


    class Cabinet:
        def archive(self):
            raise NotImplementedError


    class ColdCabinet(Cabinet):
        def archive(self):
            archive_later.delay(self.pk)


    class WarmCabinet(Cabinet):
        def archive(self):
            return self.pk
"""


@pytest.mark.parametrize("name, status", [("cabinet", "offloaded"), ("shelf", "inline")])
def test_a_receiver_named_after_a_base_reaches_its_subclasses_overrides(check, name, status):
    """``cabinet`` may be any Cabinet: ColdCabinet's override enqueues. ``shelf`` names Shelf,
    which has no subclass: its own method only."""
    files = project(name) | {"app/models.py": PLUGINS + UNRELATED}
    report = check(files, {"archive_all": (status, False)})
    assert report.endpoints[0].unresolved_calls == ()
