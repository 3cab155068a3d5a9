"""A loop over the instance's model fields of one type runs only for models that have one
(issue 14, round 7, item 21): a mixin's ``delete()``/``save()`` scheduling a cleanup task for
each ``FileField`` of ``self`` dispatches for a model with a file, never for one without.
Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task

    @shared_task
    def cleanup_file(name):
        return name
"""
# the cached property and the loop that schedules one task per file field
FILE_FIELDS = """
    @cached_property
    def _file_fields(self):
        return [f.name for f in self._meta.fields if isinstance(f, models.FileField)]

    def delete_files(self):
        for field in self._file_fields:
            value = getattr(self, field, None)
            if not value:
                continue
            cleanup_file.apply_async(kwargs={"name": value.name})
"""
DELETE = """
    def delete(self, *args, **kwargs):
        self.delete_files()
        return super().delete(*args, **kwargs)
"""
PLAIN = """
class Plain(CleanupMixin, models.Model):
    name = models.CharField(max_length=10)
"""
WITH_FILE = """
class WithFile(CleanupMixin, models.Model):
    doc = models.FileField(upload_to="docs/")
"""
VIEWS = """
    from django.http import HttpResponse
    from shop.models import Plain, WithFile

    def drop_plain(request, pk):
        Plain.objects.get(pk=pk).delete()
        return HttpResponse("")

    def drop_file(request, pk):
        obj = WithFile.objects.get(pk=pk)
        obj.delete()
        return HttpResponse("")
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("plain/<int:pk>/", views.drop_plain),
        path("file/<int:pk>/", views.drop_file),
    ]
"""
BOTH = {"drop_plain": ("inline", False), "drop_file": ("offloaded", False)}


def models_py(
    mixin: str = FILE_FIELDS + DELETE,
    classes: str = PLAIN + WITH_FILE,
    imports: str = "from django.db import models",
) -> str:
    """shop/models.py: the cleanup mixin with ``mixin``'s methods (a class body), then
    ``classes``."""
    head = "\n".join(
        [
            "from functools import cached_property, partial",
            "from django.db import transaction",
            *imports.strip().splitlines(),
            "from shop.tasks import cleanup_file",
        ]
    )
    return f"{head}\n\n\nclass CleanupMixin:\n{mixin.strip(chr(10))}\n\n\n{classes.strip()}\n"


def files(models: str, views: str = VIEWS, **more: str) -> dict[str, str]:
    out = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": models,
        "shop/views.py": views,
        "shop/urls.py": URLS,
    }
    out.update(more)
    return out


def test_deleting_a_model_with_a_file_field_dispatches_one_without_does_not(check):
    check(files(models_py()), BOTH)


def test_the_dispatch_chain_names_the_mixin_for_the_model_with_a_file(check):
    report = check(files(models_py()), BOTH)
    endpoint = next(e for e in report.endpoints if e.handler == "drop_file")
    assert endpoint.confidence == "certain"
    dispatch = next(e for e in endpoint.evidence if e.kind == "dispatch")
    assert dispatch.via[-1] == "shop/models.py:CleanupMixin.delete_files"


@pytest.mark.parametrize(
    "getter",
    [
        # a property; a cached_property over get_fields() with a tuple of types; list() of a
        # generator with FileField imported from django.db.models
        "@property\ndef _file_fields(self):\n"
        "    return [f.name for f in self._meta.fields if isinstance(f, models.FileField)]",
        "@cached_property\ndef _file_fields(self):\n    return [f.name for f in "
        "self._meta.get_fields() if isinstance(f, (models.FileField, models.ImageField))]",
        "@property\ndef _file_fields(self):\n"
        "    return list(f.name for f in self._meta.fields if isinstance(f, FileField))",
    ],
)
def test_the_field_list_getter_may_be_spelled_several_ways(check, getter):
    loop = FILE_FIELDS.split("def delete_files", 1)[1]
    mixin = (
        "\n".join("    " + line for line in getter.splitlines()) + "\n\n    def delete_files" + loop
    )
    imports = "from django.db import models\nfrom django.db.models import FileField"
    check(files(models_py(mixin + DELETE, imports=imports)), BOTH)


def test_a_method_returning_the_field_list_called_in_the_loop(check):
    mixin = (
        FILE_FIELDS.replace("    @cached_property\n", "").replace(
            "in self._file_fields:", "in self._file_fields():"
        )
        + DELETE
    )
    check(files(models_py(mixin)), BOTH)


@pytest.mark.parametrize(
    "imports",
    [
        "from django.db.models import FileField",
        "from django.db.models.fields.files import FileField",
    ],
)
def test_the_loop_over_meta_fields_guarded_by_isinstance(check, imports):
    """``for f in self._meta.fields: if isinstance(f, FileField): ...`` and the same with
    ``if not isinstance(f, FileField): continue`` before the dispatch."""
    guarded = """
    def delete_files(self):
        for f in self._meta.fields:
            if isinstance(f, FileField) and getattr(self, f.name):
                cleanup_file.apply_async(kwargs={"name": f.name})
"""
    skipping = """
    def delete_files(self):
        for f in self._meta.get_fields():
            if not isinstance(f, FileField):
                continue
            transaction.on_commit(partial(cleanup_file.apply_async, kwargs={"name": f.name}))
"""
    for mixin in (guarded, skipping):
        check(
            files(models_py(mixin + DELETE, imports=f"from django.db import models\n{imports}")),
            BOTH,
        )


def test_the_field_on_an_abstract_base_model(check):
    classes = """
class Attached(models.Model):
    doc = models.FileField(upload_to="docs/")

    class Meta:
        abstract = True


class Plain(CleanupMixin, models.Model):
    name = models.CharField(max_length=10)


class WithFile(CleanupMixin, Attached):
    title = models.CharField(max_length=10)
"""
    check(files(models_py(classes=classes)), BOTH)


def test_an_image_field_and_a_project_subclass_of_file_field_are_file_fields(check):
    for declared in ("models.ImageField()", "PdfField()"):
        classes = f"""
class PdfField(models.FileField):
    pass


class Plain(CleanupMixin, models.Model):
    name = models.CharField(max_length=10)


class WithFile(CleanupMixin, models.Model):
    doc = {declared}
"""
        check(files(models_py(classes=classes)), BOTH)


def test_a_test_on_a_project_field_class_is_not_met_by_its_base(check):
    """``isinstance(f, PdfField)``: a plain FileField is not one; an ImageField not either."""
    mixin = FILE_FIELDS.replace("models.FileField)", "PdfField)") + DELETE
    classes = """
class PdfField(models.FileField):
    pass


class Plain(CleanupMixin, models.Model):
    image = models.ImageField()


class WithFile(CleanupMixin, models.Model):
    doc = PdfField()
"""
    check(files(models_py(mixin, classes=classes)), BOTH)


def test_saving_a_model_replaces_its_files_only_when_it_has_some(check):
    mixin = (
        FILE_FIELDS.split("    def delete_files", 1)[0]
        + """
    def save(self, *args, **kwargs):
        if self.pk:
            old = type(self).objects.get(pk=self.pk)
            for field in self._file_fields:
                before = getattr(old, field)
                if before and before != getattr(self, field):
                    transaction.on_commit(
                        partial(cleanup_file.apply_async, kwargs={"name": before.name})
                    )
        return super().save(*args, **kwargs)
"""
    )
    views = VIEWS.replace(").delete()", ").save()").replace("obj.delete()", "obj.save()")
    check(files(models_py(mixin), views), BOTH)


def test_a_loop_over_another_models_fields_keeps_its_dispatch(check):
    """The fields looped over are those of ``self.attachment``, not of ``self``."""
    mixin = (
        """
    def delete_files(self):
        for f in self.attachment._meta.fields:
            if isinstance(f, models.FileField):
                cleanup_file.apply_async(kwargs={"name": f.name})
"""
        + DELETE
    )
    check(
        files(models_py(mixin)),
        {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
    )


def test_a_field_from_a_library_may_be_a_file_field(check):
    """``sorl.thumbnail.ImageField`` subclasses Django's ImageField: its bases are not read,
    so the loop is kept."""
    classes = PLAIN.replace("models.CharField(max_length=10)", "ImageField()") + WITH_FILE
    imports = "from django.db import models\nfrom sorl.thumbnail import ImageField"
    check(
        files(models_py(classes=classes, imports=imports)),
        {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
    )


def test_a_subclass_with_a_file_keeps_the_loop_for_its_base(check):
    """``Plain``'s instance may be a ``Scan`` (the class is not known exactly): it has a file."""
    classes = PLAIN + WITH_FILE + "\n\nclass Scan(Plain):\n    page = models.FileField()\n"
    check(
        files(models_py(classes=classes)),
        {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
    )


def test_an_unknown_receiver_keeps_todays_behaviour(run_audit):
    """``purge(obj)`` with ``obj`` of no known class: the mixin's method is a guess, its
    loop may run for a model with a file."""
    views = """
    from django.http import HttpResponse

    def purge(obj):
        obj.delete_files()

    def drop_any(request, pk):
        purge(request.session["thing"])
        return HttpResponse("")
"""
    urls = """
    from django.urls import path
    from shop import views

    urlpatterns = [path("any/<int:pk>/", views.drop_any)]
"""
    report = run_audit(files(models_py(), views, **{"shop/urls.py": urls}))
    [endpoint] = report.endpoints
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely")


def test_a_loop_over_relations_is_kept(check):
    """A ForeignKey is recorded by the model it points to, and every model has an AutoField:
    such a test is not decided from what a model declares."""
    for kind in ("models.ForeignKey", "models.AutoField"):
        mixin = FILE_FIELDS.replace("models.FileField)", f"{kind})") + DELETE
        check(
            files(models_py(mixin)),
            {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
        )


def test_a_model_from_a_library_or_a_field_from_a_function_may_have_files(check):
    """``class Plain(CleanupMixin, TimeStampedModel)``: the library model's fields are not
    known; ``doc = file_field()``: what a project function builds is not known either."""
    library = PLAIN.replace("models.Model", "TimeStampedModel") + WITH_FILE
    built = (
        "def file_field():\n    return models.FileField()\n\n\n"
        + PLAIN.replace("models.CharField(max_length=10)", "file_field()")
        + WITH_FILE
    )
    imports = (
        "from django.db import models\nfrom django_extensions.db.models import TimeStampedModel"
    )
    for classes in (library, built):
        check(
            files(models_py(classes=classes, imports=imports)),
            {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
        )


def test_a_library_field_named_as_no_file_field_is_not_one(check):
    """``I18nCharField()`` and a library manager on the model without a file: the loop over
    file fields does not run for it (round 7c, item 21b: a guess by the class's name)."""
    classes = (
        PLAIN.replace(
            "name = models.CharField(max_length=10)",
            "name = I18nCharField(max_length=10)\n    objects = ScopedManager()",
        )
        + WITH_FILE
    )
    imports = (
        "from django.db import models\nfrom i18nfield.fields import I18nCharField\n"
        "from django_scopes import ScopedManager"
    )
    check(files(models_py(classes=classes, imports=imports)), BOTH)


def test_a_library_field_named_as_a_file_field_may_be_one(check):
    classes = PLAIN.replace("models.CharField(max_length=10)", "S3UploadField()") + WITH_FILE
    imports = "from django.db import models\nfrom storages.fields import S3UploadField"
    check(
        files(models_py(classes=classes, imports=imports)),
        {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
    )


def test_a_dict_filled_in_the_file_field_loop_runs_its_dispatch_loop_under_it(check):
    """``old_files[field] = path`` only inside the loop over file fields, then ``for field,
    path in old_files.items(): schedule(...)`` after the save: the second loop runs only for a
    model with a file field (round 7c)."""
    mixin = (
        FILE_FIELDS.split("    def delete_files", 1)[0]
        + """
    def save(self, *args, **kwargs):
        old_files = {}
        if self.pk:
            old = type(self).objects.get(pk=self.pk)
            for field in self._file_fields:
                if before := getattr(old, field):
                    old_files[field] = before.name
        result = super().save(*args, **kwargs)
        for field, path in old_files.items():
            cleanup_file.apply_async(kwargs={"name": path})
        return result
"""
    )
    views = VIEWS.replace(").delete()", ").save()").replace("obj.delete()", "obj.save()")
    check(files(models_py(mixin), views), BOTH)


def test_a_container_also_filled_outside_the_loop_keeps_its_dispatch(check):
    mixin = (
        FILE_FIELDS.split("    def delete_files", 1)[0]
        + """
    def save(self, *args, **kwargs):
        names = ["audit.log"]
        for field in self._file_fields:
            names.append(getattr(self, field).name)
        result = super().save(*args, **kwargs)
        for name in names:
            cleanup_file.apply_async(kwargs={"name": name})
        return result
"""
    )
    views = VIEWS.replace(").delete()", ").save()").replace("obj.delete()", "obj.save()")
    check(
        files(models_py(mixin), views),
        {"drop_plain": ("offloaded", False), "drop_file": ("offloaded", False)},
    )
