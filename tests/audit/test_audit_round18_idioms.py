"""Shapes round 18 found read wrong (PATTERNS.md items 196-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations


def test_a_child_process_the_request_ends_is_not_background(check):
    """Item 196: a subprocess (or a multiprocessing.Process) the request terminates or
    kills does not outlive the response: inline, heavy for a subprocess. One never ended
    stays in the background."""
    check(
        {
            "app.py": """
            import multiprocessing
            import subprocess
            from flask import Flask

            app = Flask(__name__)

            def version():
                proc = subprocess.Popen(["gpg", "--version"], stdout=subprocess.PIPE)
                out = proc.stdout.read()
                proc.terminate()
                return out

            def work():
                return 1

            @app.get("/terminated")
            def terminated():
                return version()

            @app.get("/killed")
            def killed():
                proc = subprocess.Popen(["gpg", "--list-keys"], stdout=subprocess.PIPE)
                first = proc.stdout.readline()
                proc.kill()
                return first

            @app.get("/process")
            def process():
                worker = multiprocessing.Process(target=work)
                worker.start()
                worker.terminate()
                return "ok"

            @app.get("/left")
            def left():
                subprocess.Popen(["gpg", "--refresh-keys"])
                return "started"
            """
        },
        {
            "terminated": ("inline", True),
            "killed": ("inline", True),
            "process": ("inline", False),
            "left": ("inprocess_background", False),
        },
    )


STORAGE_MODELS = """
import subprocess
import django_rq
from django.db import models


def check_bucket(bucket):
    pass


class Storage(models.Model):
    def validate_connection(self):
        subprocess.run(["true"])

    class Meta:
        abstract = True


class S3Mixin(models.Model):
    bucket = models.TextField()

    def validate_connection(self):
        django_rq.get_queue("default").enqueue(check_bucket, self.bucket)

    class Meta:
        abstract = True


class LocalMixin(models.Model):
    path = models.TextField()

    def validate_connection(self):
        return bool(self.path)

    class Meta:
        abstract = True


class ExportStorage(Storage):
    pass


class S3ExportStorage(S3Mixin, ExportStorage):
    pass
"""
STORAGE_SERIALIZERS = """
from rest_framework import serializers
from app.models import ExportStorage, S3ExportStorage


class ExportStorageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportStorage
        fields = "__all__"


class S3ExportStorageSerializer(ExportStorageSerializer):
    class Meta:
        model = S3ExportStorage
        fields = "__all__"


class InheritedMetaSerializer(S3ExportStorageSerializer):
    pass
"""
STORAGE_API = """
from django.urls import path
from rest_framework import generics
from rest_framework.response import Response
from app.serializers import (
    ExportStorageSerializer,
    InheritedMetaSerializer,
    S3ExportStorageSerializer,
)


class StorageValidateAPI(generics.CreateAPIView):
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        storage = self.serializer_class.Meta.model(**serializer.validated_data)
        storage.validate_connection()
        return Response()


class ExportValidateAPI(StorageValidateAPI):
    serializer_class = ExportStorageSerializer


class S3ExportValidateAPI(StorageValidateAPI):
    serializer_class = S3ExportStorageSerializer


class InheritedValidateAPI(StorageValidateAPI):
    serializer_class = InheritedMetaSerializer


urlpatterns = [
    path("export/validate", ExportValidateAPI.as_view()),
    path("export/s3/validate", S3ExportValidateAPI.as_view()),
    path("export/inherited/validate", InheritedValidateAPI.as_view()),
]
"""


def test_a_model_read_through_a_serializers_meta_keeps_its_class(check):
    """Item 197: ``self.serializer_class.Meta.model(...)`` is the model the routed view's
    serializer names (its own ``Meta``, or the one it inherits), so the method called on
    the instance is that model's: the S3 mixin's enqueue, the base's subprocess. It was
    guessed among the project's methods of that name (the base's no-op, inline)."""
    check(
        {
            "app/models.py": STORAGE_MODELS,
            "app/serializers.py": STORAGE_SERIALIZERS,
            "app/api.py": STORAGE_API,
        },
        {
            "ExportValidateAPI.post": ("inline", True),
            "S3ExportValidateAPI.post": ("offloaded", False),
            "InheritedValidateAPI.post": ("offloaded", False),
        },
    )
