"""Route shapes the brief asked to check from snippets (issue 14): flask-restx
``Namespace`` + ``@ns.route`` mounted with ``api.add_namespace(ns, path=...)`` under an
``Api(prefix=...)``, Flask-AppBuilder ``@expose`` on ``BaseApi``/``ModelRestApi`` with
``resource_name``/``route_base``, FastAPI ``include_router(prefix=)`` nested two levels."""

from __future__ import annotations


def routes(report):
    return {e.handler: (e.framework, list(e.methods), e.route) for e in report.endpoints}


def test_restx_namespaces_appbuilder_apis_and_nested_fastapi_routers(run_audit):
    report = run_audit(
        {
            "restx.py": """
            from flask import Flask
            from flask_restx import Api, Namespace, Resource

            app = Flask(__name__)
            api = Api(app, prefix="/api")
            ns = Namespace("todos", description="x")


            @ns.route("/<int:id>")
            class Todo(Resource):
                def get(self, id):
                    return {}

                def delete(self, id):
                    return {}


            api.add_namespace(ns, path="/v1/todos")
            """,
            "fab.py": """
            from flask_appbuilder.api import BaseApi, expose
            from flask_appbuilder.api import ModelRestApi


            class GreetingApi(BaseApi):
                resource_name = "greeting"

                @expose("/hello", methods=["GET", "POST"])
                def greeting(self):
                    return self.response(200, message="Hello")


            class ReportApi(ModelRestApi):
                route_base = "/api/v2/reports"

                @expose("/<pk>/render", methods=["POST"])
                def render(self, pk):
                    return self.response(200)
            """,
            "fa.py": """
            from fastapi import APIRouter, FastAPI

            app = FastAPI()
            api = APIRouter(prefix="/api")
            v1 = APIRouter(prefix="/v1")
            items = APIRouter()


            @items.get("/{item_id}")
            def read_item(item_id: int):
                return {}


            v1.include_router(items, prefix="/items")
            api.include_router(v1)
            app.include_router(api, prefix="/root")
            """,
        }
    )
    assert routes(report) == {
        "Todo.get": ("flask-restx", ["GET"], "/api/v1/todos/<int:id>"),
        "Todo.delete": ("flask-restx", ["DELETE"], "/api/v1/todos/<int:id>"),
        "GreetingApi.greeting": ("flask-appbuilder", ["GET", "POST"], "/api/v1/greeting/hello"),
        "ReportApi.render": ("flask-appbuilder", ["POST"], "/api/v2/reports/<pk>/render"),
        "read_item": ("fastapi", ["GET"], "/root/api/v1/items/{item_id}"),
    }
    assert report.unrecognized == []


def test_a_namespace_never_added_to_an_api_keeps_its_own_path_only(run_audit):
    report = run_audit(
        {
            "restx.py": """
            from flask_restx import Namespace, Resource

            ns = Namespace("todos", path="/todos")

            @ns.route("/<int:id>")
            class Todo(Resource):
                def get(self, id):
                    return {}
            """
        }
    )
    assert routes(report) == {"Todo.get": ("flask-restx", ["GET"], "/todos/<int:id>")}


def test_project_generic_views_built_from_django_building_blocks(run_audit):
    # a project's generic.py composes Django's base views; the routed subclasses define
    # no handler themselves, so the building blocks' get/post are their endpoints
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/common/__init__.py": "",
            "proj/common/generic.py": """
            from django.views.generic.detail import BaseDetailView
            from django.views.generic.edit import BaseCreateView, DeletionMixin

            class PermissionMixin:
                def has_permission(self):
                    return True

            class CreateView(PermissionMixin, BaseCreateView):
                template_name = "create.html"

            class DeleteView(PermissionMixin, DeletionMixin, BaseDetailView):
                template_name = "delete.html"

            class Plain(PermissionMixin):
                pass
            """,
            "proj/views.py": """
            from proj.common import generic

            class ThingCreate(generic.CreateView):
                pass

            class ThingDelete(generic.DeleteView):
                pass

            class NotAView(generic.Plain):
                pass
            """,
            "proj/urls.py": """
            from django.urls import path
            from proj import views

            urlpatterns = [
                path("things/new/", views.ThingCreate.as_view()),
                path("things/<int:pk>/delete/", views.ThingDelete.as_view()),
                path("things/odd/", views.NotAView.as_view()),
            ]
            """,
        }
    )
    assert routes(report) == {
        "ThingCreate.get": ("django", ["GET"], "/things/new/"),
        "ThingCreate.post": ("django", ["POST"], "/things/new/"),
        "ThingDelete.get": ("django", ["GET"], "/things/<int:pk>/delete/"),
        "ThingDelete.post": ("django", ["POST"], "/things/<int:pk>/delete/"),
    }
    # a routed class answering nothing the audit can see is listed, not dropped
    assert [(u.file, u.line) for u in report.unrecognized] == [("proj/urls.py", 7)]
    assert "NotAView answers no HTTP method" in report.unrecognized[0].reason


def test_a_mixin_before_a_shared_base_handles_the_method_as_python_resolves_it(run_audit):
    # ObjectEditView(EditMixin, FormBase): both derive from BaseView; Python's MRO puts
    # FormBase before BaseView, so FormBase.post handles the request, not BaseView.post
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/generic.py": """
            from django.views import View

            class BaseView(View):
                def get(self, request):
                    return None

                def post(self, request):
                    return None

            class EditMixin(BaseView):
                pass

            class FormBase(BaseView):
                def post(self, request):
                    return None

            class ObjectEditView(EditMixin, FormBase):
                pass
            """,
            "proj/urls.py": """
            from django.urls import path
            from proj.generic import ObjectEditView

            urlpatterns = [path("edit/", ObjectEditView.as_view())]
            """,
        }
    )
    assert {(e.handler, e.line) for e in report.endpoints} == {
        ("ObjectEditView.get", 4),
        ("ObjectEditView.post", 14),
    }


def test_fastapi_websocket_routes_are_endpoints(run_audit):
    report = run_audit(
        {
            "ws.py": """
            from fastapi import APIRouter, FastAPI, WebSocket

            app = FastAPI()
            router = APIRouter(prefix="/voice")

            @router.websocket("/transcribe")
            async def transcribe(websocket: WebSocket):
                await websocket.accept()

            @router.get("/status")
            def status():
                return {}

            app.include_router(router, prefix="/api")
            """,
            "other.py": """
            class Hub:
                def websocket(self, path):
                    return lambda f: f

            hub = Hub()

            @hub.websocket("/not-a-route")
            def handler(ws):
                return ws
            """,
        }
    )
    assert routes(report) == {
        "transcribe": ("fastapi", ["WEBSOCKET"], "/api/voice/transcribe"),
        "status": ("fastapi", ["GET"], "/api/voice/status"),
    }


def test_views_wrapped_in_decorators_inside_the_urlconf(run_audit):
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from django.views import View

            def export(request):
                return None

            class Upload(View):
                def post(self, request):
                    return None

            def make_view(name):
                return export
            """,
            "proj/urls.py": """
            from django.contrib.auth.decorators import login_required
            from django.urls import path
            from django.views.decorators.cache import cache_page
            from django.views.decorators.csrf import csrf_exempt
            from proj import views

            urlpatterns = [
                path("export/", login_required(views.export)),
                path("upload/", csrf_exempt(cache_page(60)(views.Upload.as_view()))),
                path("made/", views.make_view("x")),
            ]
            """,
        }
    )
    # one endpoint per route: the view the factory returns serves "made/" too
    assert sorted((e.handler, list(e.methods), e.route) for e in report.endpoints) == [
        ("Upload.post", ["POST"], "/upload/"),
        ("export", ["ANY"], "/export/"),
        ("export", ["ANY"], "/made/"),
    ]
