"""A DRF generic view answers with ``serializer.data``, which runs the serializer's
``SerializerMethodField`` getters (issue 14, PATTERNS.md round 9, item 47). Snippets written
for the audit (source text only, nothing runs)."""

from __future__ import annotations

from tests.audit.test_audit_dispatch import TASKS

SERIALIZERS = """
    from rest_framework import serializers
    from shop.models import Note, Tag
    from shop.tasks import crunch


    class BaseSerializer(serializers.ModelSerializer):
        latest = serializers.SerializerMethodField()

        def get_latest(self, obj):
            crunch.delay(obj.pk)  # a refresh enqueued when the cached value is stale
            return 1


    class TagSerializer(BaseSerializer):
        class Meta:
            model = Tag
            fields = ["name", "latest"]


    class NoteSerializer(serializers.ModelSerializer):
        size = serializers.SerializerMethodField()

        class Meta:
            model = Note
            fields = ["name", "size"]

        def get_size(self, obj):
            return len(obj.name)
"""
VIEWS = """
    from rest_framework import generics, viewsets
    from shop.models import Note, Tag
    from shop.serializers import NoteSerializer, TagSerializer


    class TagList(generics.ListAPIView):
        queryset = Tag.objects.all()
        serializer_class = TagSerializer


    class TagViewSet(viewsets.ModelViewSet):
        queryset = Tag.objects.all()
        serializer_class = TagSerializer


    class NoteList(generics.ListAPIView):
        queryset = Note.objects.all()
        serializer_class = NoteSerializer
"""
URLS = """
    from django.urls import include, path
    from rest_framework.routers import DefaultRouter
    from shop import views

    router = DefaultRouter()
    router.register("tags", views.TagViewSet)
    urlpatterns = [
        path("tags-list/", views.TagList.as_view()),
        path("notes/", views.NoteList.as_view()),
        path("", include(router.urls)),
    ]
"""
MODELS = """
    from django.db import models


    class Tag(models.Model):
        name = models.CharField(max_length=10)


    class Note(models.Model):
        name = models.CharField(max_length=10)
"""


def shop(views: str, urls: str) -> dict[str, str]:
    """The app's files with these views and URLs."""
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/serializers.py": SERIALIZERS,
        "shop/views.py": views,
        "shop/urls.py": urls,
    }


def test_the_method_field_getters_run_when_the_view_answers(check):
    offloaded, inline = ("offloaded", False), ("inline", False)
    check(
        shop(VIEWS, URLS),
        {
            "TagList.get": offloaded,  # a getter declared on the project base serializer
            "TagViewSet.list": offloaded,
            "TagViewSet.retrieve": offloaded,
            "TagViewSet.create": offloaded,  # answers with the created object's data
            "TagViewSet.update": offloaded,
            "TagViewSet.partial_update": offloaded,
            "TagViewSet.destroy": inline,  # answers with no body
            "NoteList.get": inline,  # its getter only computes
        },
    )


HAND_WRITTEN = """
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from shop.models import Note, Tag
    from shop.serializers import NoteSerializer, TagSerializer


    class TagDetail(APIView):
        def get(self, request, pk):
            return Response(TagSerializer(Tag.objects.get(pk=pk)).data)


    class TagCheck(APIView):
        def post(self, request):
            serializer = TagSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            return Response(serializer.validated_data)  # no representation read


    class NoteDetail(APIView):
        def get(self, request, pk):
            serializer = NoteSerializer(Note.objects.get(pk=pk))
            return Response(serializer.data)
"""
HAND_URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("tags/<int:pk>/", views.TagDetail.as_view()),
        path("tags/check/", views.TagCheck.as_view()),
        path("notes/<int:pk>/", views.NoteDetail.as_view()),
    ]
"""


def test_a_serializers_data_handed_to_a_call_runs_its_representation(check):
    check(
        shop(HAND_WRITTEN, HAND_URLS),
        {
            "TagDetail.get": ("offloaded", False),
            "TagCheck.post": ("inline", False),
            "NoteDetail.get": ("inline", False),
        },
    )


# Round 9, item 50: simplejwt's token views validate their serializer in post
TOKENS = """
    from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
    from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView
    from shop.tasks import crunch


    class LoginSerializer(TokenObtainPairSerializer):
        def validate(self, attrs):
            data = super().validate(attrs)
            crunch.delay(self.user.pk)  # a login event broadcast through the queue
            return data


    class Login(TokenObtainPairView):
        serializer_class = LoginSerializer

        def post(self, *args, **kwargs):
            return super().post(*args, **kwargs)


    class PlainLogin(TokenObtainPairView):
        serializer_class = LoginSerializer


    class Refresh(TokenRefreshView):
        pass
"""
TOKEN_URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("login/", views.Login.as_view()),
        path("plain-login/", views.PlainLogin.as_view()),
        path("refresh/", views.Refresh.as_view()),
    ]
"""


def test_a_simplejwt_token_view_validates_its_serializer(check):
    check(
        shop(TOKENS, TOKEN_URLS),
        {
            "Login.post": ("offloaded", False),
            "PlainLogin.post": ("offloaded", False),
            "Refresh.post": ("inline", False),  # the library's own serializer
        },
    )
