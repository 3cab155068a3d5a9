"""One snippet per route style: which endpoints exist, with which methods and full paths."""

from __future__ import annotations

import pytest


def routes(report):
    """{handler: (framework, methods, route)}."""
    return {e.handler: (e.framework, list(e.methods), e.route) for e in report.endpoints}


def test_flask_app_and_blueprint_decorators_compose_prefixes(run_audit):
    report = run_audit(
        {
            "app/__init__.py": """
            from flask import Flask
            from app.views import bp

            def create_app():
                app = Flask(__name__)
                app.register_blueprint(bp, url_prefix="/api")

                @app.route("/health")
                def health():
                    return "ok"

                return app
        """,
            "app/views.py": """
            from flask import Blueprint

            bp = Blueprint("files", __name__, url_prefix="/ignored-when-registered-with-one")

            @bp.route("/files", methods=["GET", "POST"])
            def files():
                return "x"

            @bp.post("/files/<int:file_id>/rename")
            def rename(file_id):
                return "x"

            @bp.get("/plain")
            def plain():
                return "x"
        """,
        }
    )
    assert routes(report) == {
        "health": ("flask", ["GET"], "/health"),
        "files": ("flask", ["GET", "POST"], "/api/files"),
        "rename": ("flask", ["POST"], "/api/files/<int:file_id>/rename"),
        "plain": ("flask", ["GET"], "/api/plain"),
    }


def test_flask_nested_blueprints_and_blueprint_own_prefix(run_audit):
    report = run_audit(
        {
            "web.py": """
            from flask import Blueprint, Flask

            app = Flask(__name__)
            parent = Blueprint("parent", __name__, url_prefix="/v1")
            child = Blueprint("child", __name__, url_prefix="/child")
            parent.register_blueprint(child)
            app.register_blueprint(parent)

            @child.route("/x")
            def x():
                return ""
        """,
        }
    )
    assert routes(report) == {"x": ("flask", ["GET"], "/v1/child/x")}


def test_flask_add_url_rule_with_function_and_method_view(run_audit):
    report = run_audit(
        {
            "app.py": """
            from flask import Flask
            from flask.views import MethodView

            app = Flask(__name__)

            def index():
                return "x"

            class ItemAPI(MethodView):
                def get(self, item_id):
                    return "x"

                def post(self):
                    return "x"

            app.add_url_rule("/", view_func=index)
            app.add_url_rule("/items/<int:item_id>", view_func=ItemAPI.as_view("items"))
        """,
        }
    )
    assert routes(report) == {
        "index": ("flask", ["GET"], "/"),
        "ItemAPI.get": ("flask", ["GET"], "/items/<int:item_id>"),
        "ItemAPI.post": ("flask", ["POST"], "/items/<int:item_id>"),
    }


def test_flask_restful_resources_and_restx_namespaces(run_audit):
    report = run_audit(
        {
            "restful.py": """
            from flask import Flask
            from flask_restful import Api, Resource

            app = Flask(__name__)
            api = Api(app, prefix="/v1")

            class Todo(Resource):
                def get(self, todo_id):
                    return {}

                def delete(self, todo_id):
                    return {}

            api.add_resource(Todo, "/todos/<todo_id>")
        """,
            "restx.py": """
            from flask_restx import Api, Namespace, Resource

            api = Api()
            ns = Namespace("cats", path="/cats")
            api.add_namespace(ns, path="/animals/cats")

            @ns.route("/<id>")
            class Cat(Resource):
                def put(self, id):
                    return {}
        """,
        }
    )
    assert routes(report) == {
        "Todo.get": ("flask-restful", ["GET"], "/v1/todos/<todo_id>"),
        "Todo.delete": ("flask-restful", ["DELETE"], "/v1/todos/<todo_id>"),
        "Cat.put": ("flask-restx", ["PUT"], "/animals/cats/<id>"),
    }


def test_flask_appbuilder_expose_on_api_classes(run_audit):
    report = run_audit(
        {
            "api.py": """
            from flask_appbuilder.api import BaseApi, expose

            class ExampleApi(BaseApi):
                resource_name = "example"

                @expose("/greeting", methods=["POST"])
                def greeting(self):
                    return self.response(200)
        """,
        }
    )
    assert routes(report) == {
        "ExampleApi.greeting": ("flask-appbuilder", ["POST"], "/api/v1/example/greeting"),
    }


def test_fastapi_router_prefixes_compose_through_include_router(run_audit):
    report = run_audit(
        {
            "app/main.py": """
            from fastapi import FastAPI
            from app.api import api_router

            app = FastAPI()
            app.include_router(api_router, prefix="/api")

            @app.get("/")
            async def root():
                return {}
        """,
            "app/api.py": """
            from fastapi import APIRouter
            from app.items import router as items

            api_router = APIRouter(prefix="/v1")
            api_router.include_router(items, prefix="/things")
        """,
            "app/items.py": """
            from fastapi import APIRouter

            router = APIRouter(prefix="/items")

            @router.put("/{item_id}")
            async def update_item(item_id: int):
                return {}

            @router.api_route("/bulk", methods=["POST", "PATCH"])
            async def bulk():
                return {}

            def listing():
                return []

            router.add_api_route("/", listing, methods=["GET"])
        """,
        }
    )
    assert routes(report) == {
        "root": ("fastapi", ["GET"], "/"),
        "update_item": ("fastapi", ["PUT"], "/api/v1/things/items/{item_id}"),
        "bulk": ("fastapi", ["POST", "PATCH"], "/api/v1/things/items/bulk"),
        "listing": ("fastapi", ["GET"], "/api/v1/things/items/"),
    }


@pytest.mark.parametrize("how", ['"/api/v1", app=api', '"/api/v1", api', 'path="/api/v1", app=api'])
def test_a_fastapi_sub_application_mounted_takes_the_mount_path(run_audit, how):
    """``app.mount("/api/v1", app=api)`` (PATTERNS.md item 74): the sub-app's routes and its
    routers' prefixes sit under the mount path; static files mounted beside it add none."""
    report = run_audit(
        {
            "main.py": f"""
            from fastapi import APIRouter, FastAPI
            from fastapi.staticfiles import StaticFiles

            router = APIRouter()

            @router.get("/items")
            def items():
                return []

            api = FastAPI()
            api.include_router(router, prefix="/shop")

            @api.get("/ping")
            def ping():
                return {{}}

            app = FastAPI()
            app.mount("/static", StaticFiles(directory="static"), name="static")
            app.mount({how})

            @app.get("/health")
            def health():
                return {{}}
        """
        }
    )
    assert routes(report) == {
        "items": ("fastapi", ["GET"], "/api/v1/shop/items"),
        "ping": ("fastapi", ["GET"], "/api/v1/ping"),
        "health": ("fastapi", ["GET"], "/health"),
    }


def test_fastapi_websockets_are_endpoints_with_method_websocket(run_audit):
    # issue 14's labels count websocket handlers (onyx, tuning set): they may hand work
    # to a queue like any handler; the method says what they are
    report = run_audit(
        {
            "main.py": """
            from fastapi import FastAPI

            app = FastAPI()

            @app.websocket("/ws")
            async def ws(websocket):
                await websocket.accept()
        """,
        }
    )
    assert [(e.handler, e.methods, e.route) for e in report.endpoints] == [
        ("ws", ("WEBSOCKET",), "/ws")
    ]


def test_starlette_route_and_mount(run_audit):
    report = run_audit(
        {
            "main.py": """
            from starlette.applications import Starlette
            from starlette.routing import Mount, Route

            async def homepage(request):
                return None

            async def user(request):
                return None

            app = Starlette(routes=[
                Route("/", homepage),
                Mount("/users", routes=[Route("/{username}", user, methods=["GET", "POST"])]),
            ])
        """,
        }
    )
    assert routes(report) == {
        "homepage": ("starlette", ["GET"], "/"),
        "user": ("starlette", ["GET", "POST"], "/users/{username}"),
    }


def test_django_urls_include_function_views_and_class_views(run_audit):
    report = run_audit(
        {
            "proj/settings.py": """
            ROOT_URLCONF = "proj.urls"
        """,
            "proj/urls.py": """
            from django.urls import include, path, re_path

            urlpatterns = [
                path("shop/", include("shop.urls")),
                re_path(r"^legacy/(?P<pk>[0-9]+)/$", include([
                    path("old/", "shop.views.nothing"),
                ])),
            ]
        """,
            "shop/urls.py": """
            from django.urls import path
            from . import views
            from .views import ReportView

            urlpatterns = [
                path("", views.index, name="index"),
                path("orders/<int:pk>/", views.order, name="order"),
                path("report/", ReportView.as_view(), name="report"),
            ]
        """,
            "shop/views.py": """
            from django.views import View
            from django.views.decorators.http import require_POST

            def index(request):
                return None

            @require_POST
            def order(request, pk):
                return None

            class ReportView(View):
                def get(self, request):
                    return None

                def post(self, request):
                    return None
        """,
        }
    )
    assert routes(report) == {
        "index": ("django", ["ANY"], "/shop/"),
        "order": ("django", ["POST"], "/shop/orders/<int:pk>/"),
        "ReportView.get": ("django", ["GET"], "/shop/report/"),
        "ReportView.post": ("django", ["POST"], "/shop/report/"),
    }


def test_drf_viewsets_on_a_router_with_actions(run_audit):
    report = run_audit(
        {
            "api/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter
            from api.views import OrderViewSet, TagViewSet

            router = DefaultRouter()
            router.register(r"orders", OrderViewSet, basename="order")
            router.register(r"tags", TagViewSet)

            urlpatterns = [path("api/", include(router.urls))]
        """,
            "api/views.py": """
            from rest_framework import viewsets
            from rest_framework.decorators import action

            class OrderViewSet(viewsets.ModelViewSet):
                def perform_create(self, serializer):
                    serializer.save()

                @action(detail=True, methods=["post"], url_path="refund")
                def refund(self, request, pk=None):
                    return None

            class TagViewSet(viewsets.ReadOnlyModelViewSet):
                @action(detail=False)
                def popular(self, request):
                    return None
        """,
        }
    )
    assert routes(report) == {
        "OrderViewSet.list": ("drf", ["GET"], "/api/orders/"),
        "OrderViewSet.create": ("drf", ["POST"], "/api/orders/"),
        "OrderViewSet.retrieve": ("drf", ["GET"], "/api/orders/{pk}/"),
        "OrderViewSet.update": ("drf", ["PUT"], "/api/orders/{pk}/"),
        "OrderViewSet.partial_update": ("drf", ["PATCH"], "/api/orders/{pk}/"),
        "OrderViewSet.destroy": ("drf", ["DELETE"], "/api/orders/{pk}/"),
        "OrderViewSet.refund": ("drf", ["POST"], "/api/orders/{pk}/refund/"),
        "TagViewSet.list": ("drf", ["GET"], "/api/tags/"),
        "TagViewSet.retrieve": ("drf", ["GET"], "/api/tags/{pk}/"),
        "TagViewSet.popular": ("drf", ["GET"], "/api/tags/popular/"),
    }


def test_drf_apiviews_generics_as_view_mappings_and_api_view(run_audit):
    report = run_audit(
        {
            "urls.py": """
            from django.urls import path
            from views import Upload, Create, Things, ping

            urlpatterns = [
                path("upload/", Upload.as_view()),
                path("create/", Create.as_view()),
                path("things/", Things.as_view({"get": "list", "post": "create"})),
                path("ping/", ping),
            ]
        """,
            "views.py": """
            from rest_framework import generics, viewsets
            from rest_framework.decorators import api_view
            from rest_framework.views import APIView

            class Upload(APIView):
                def post(self, request):
                    return None

            class Create(generics.CreateAPIView):
                pass

            class Things(viewsets.ViewSet):
                def list(self, request):
                    return None

                def create(self, request):
                    return None

            @api_view(["GET", "POST"])
            def ping(request):
                return None
        """,
        }
    )
    assert routes(report) == {
        "Upload.post": ("drf", ["POST"], "/upload/"),
        "Create.post": ("drf", ["POST"], "/create/"),
        "Things.list": ("drf", ["GET"], "/things/"),
        "Things.create": ("drf", ["POST"], "/things/"),
        "ping": ("drf", ["GET", "POST"], "/ping/"),
    }


def test_plain_functions_and_unrouted_classes_are_not_endpoints(run_audit):
    report = run_audit(
        {
            "helpers.py": """
            import requests
            from django.views import View

            def fetch():
                return requests.get("https://example.com")

            class Unrouted(View):
                def get(self, request):
                    return None
        """,
        }
    )
    assert report.endpoints == []


def test_view_dispatch_overrides_and_string_views_are_part_of_the_endpoint(check):
    check(
        {
            "urls.py": """
            from django.conf.urls import url
            from views import Report

            urlpatterns = [
                url(r"^report/$", Report.as_view()),
                url(r"^legacy/$", "views.legacy"),
            ]
        """,
            "views.py": """
            import requests
            from django.views import View

            class Report(View):
                def dispatch(self, request, *args, **kwargs):
                    requests.get("https://example.com/permissions")
                    return super().dispatch(request, *args, **kwargs)

                def get(self, request):
                    return None

            def legacy(request):
                return None
        """,
        },
        {"Report.get": ("inline", True), "legacy": ("inline", False)},
    )


REGISTER_VIEW = """
    def register_view(bp_or_app, routes, view_func, *args, **kwargs):
        for route in routes:
            bp_or_app.add_url_rule(route, view_func=view_func, *args, **kwargs)

    def register_api(target, rules, view):
        register_view(target, rules, view)
"""


def test_flask_routes_registered_through_project_helpers(run_audit):
    report = run_audit(
        {
            "forum/helpers.py": REGISTER_VIEW,
            "forum/views.py": """
            from flask import Blueprint
            from flask.views import MethodView
            from forum.helpers import register_api, register_view

            bp = Blueprint("forum", __name__, url_prefix="/forum")

            class Topic(MethodView):
                def get(self, topic_id):
                    return "x"

                def post(self, topic_id):
                    return "x"

            def search():
                return "x"

            def markread():
                return "x"

            def load_blueprints(app):
                register_view(bp, routes=["/topic/<int:topic_id>", "/t/<int:topic_id>"],
                              view_func=Topic.as_view("topic"))
                register_view(bp, ["/search"], search, methods=["GET", "POST"])
                register_api(bp, ["/markread"], markread)
                app.register_blueprint(bp)
        """,
        }
    )
    assert routes(report) == {
        "Topic.get": ("flask", ["GET"], "/forum/topic/<int:topic_id>"),
        "Topic.post": ("flask", ["POST"], "/forum/topic/<int:topic_id>"),
        "search": ("flask", ["GET", "POST"], "/forum/search"),
        "markread": ("flask", ["GET"], "/forum/markread"),
    }


def test_helpers_that_do_not_register_routes_make_no_endpoints(run_audit):
    report = run_audit(
        {
            "forum/helpers.py": """
            VIEWS = {}

            def remember_view(bp_or_app, routes, view_func):
                for route in routes:
                    VIEWS[route] = view_func
        """,
            "forum/views.py": """
            from flask import Blueprint
            from flask.views import MethodView
            from forum.helpers import remember_view

            bp = Blueprint("forum", __name__)

            class Topic(MethodView):
                def get(self):
                    return "x"

            def load_blueprints(app):
                remember_view(bp, routes=["/topic"], view_func=Topic.as_view("topic"))
        """,
        }
    )
    assert report.endpoints == []


def test_a_package_name_bound_to_a_view_hides_the_submodule_of_that_name(run_audit):
    report = run_audit(
        {
            "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [
                path("follow/", views.follow),
                path("report/", views.report),
            ]
        """,
            "shop/views/__init__.py": """
            from .follow import follow
            from . import report
        """,
            "shop/views/follow.py": """
            def follow(request):
                return None
        """,
            "shop/views/report.py": """
            def report(request):
                return None
        """,
        }
    )
    assert routes(report) == {"follow": ("django", ["ANY"], "/follow/")}


def test_a_helper_called_with_the_app_its_caller_was_given_registers_routes(run_audit):
    report = run_audit(
        {
            "forum/helpers.py": REGISTER_VIEW,
            "forum/views.py": """
            from flask.views import MethodView
            from forum.helpers import register_view

            class Topic(MethodView):
                def get(self):
                    return "x"

            def init_app(app):
                register_view(app, routes=["/topic"], view_func=Topic.as_view("topic"))
        """,
        }
    )
    assert routes(report) == {"Topic.get": ("flask", ["GET"], "/topic")}


def test_django_url_lists_prepended_to_themselves_and_summed_with_router_urls(run_audit):
    """``urlpatterns = [path(...)] + urlpatterns`` under ``if settings.DEBUG`` adds to the
    list (it used to replace it, losing every route declared above), and
    ``api_patterns = router.urls + extra_patterns`` included as ``include((api_patterns,
    "api"))`` is a URL list too, so the ``as_view({...})`` paths of ``extra_patterns`` are
    served under the include's prefix."""
    report = run_audit(
        {
            "proj/settings.py": """
            ROOT_URLCONF = "proj.urls"
            DEBUG = True
        """,
            "proj/urls.py": """
            from django.conf import settings
            from django.urls import include, path
            from proj.views import debug_page
            from shop.urls import api_patterns as shop_api

            urlpatterns = [
                path("api/v1/", include((shop_api, "shop"))),
            ]

            if settings.DEBUG:
                urlpatterns = [path("debug/", debug_page)] + urlpatterns
        """,
            "proj/views.py": """
            def debug_page(request):
                return None
        """,
            "shop/urls.py": """
            from django.urls import path
            from rest_framework.routers import SimpleRouter
            from shop.views import OrderViewSet

            router = SimpleRouter()
            router.register(r"orders", OrderViewSet, basename="order")

            extra_patterns = [
                path("orders/<pk>/summary/", OrderViewSet.as_view({"get": "summary"})),
            ]

            api_patterns = router.urls + extra_patterns
        """,
            "shop/views.py": """
            from rest_framework import viewsets

            class OrderViewSet(viewsets.ViewSet):
                def list(self, request):
                    return None

                def summary(self, request, pk=None):
                    return None
        """,
        }
    )
    found = routes(report)
    assert found["debug_page"] == ("django", ["ANY"], "/debug/")
    assert found["OrderViewSet.summary"][1:] == (["GET"], "/api/v1/orders/<pk>/summary/")
    assert found["OrderViewSet.list"][1:] == (["GET"], "/api/v1/orders/")


# Round 11, item 82: Flask's documented register_api helper
REGISTER_API = """
    from flask import Blueprint, Flask
    from flask.views import MethodView

    bp = Blueprint("api", __name__)


    class UserAPI(MethodView):
        def get(self, user_id):
            return "x"

        def delete(self, user_id):
            return "gone"


    class GroupAPI(MethodView):
        def put(self, group_id):
            return "put"


    def register_api(view, endpoint, url, pk="id", pk_type="int"):
        view_func = view.as_view(endpoint)
        bp.add_url_rule(RULE, view_func=view_func, methods=["GET", "PUT", "DELETE"])


    register_api(UserAPI, "user_api", "/users/", pk="user_id")
    register_api(GroupAPI, "group_api", "/groups/", pk="group_id", pk_type="string")

    app = Flask(__name__)
    app.register_blueprint(bp, url_prefix="/api")
"""


@pytest.mark.parametrize("rule", ['"%s<%s:%s>" % (url, pk_type, pk)', 'f"{url}<{pk_type}:{pk}>"'])
def test_flasks_register_api_helper_composes_each_rule(run_audit, rule):
    """The view passed by reference, the rule formatted from the call's arguments and the
    parameters' defaults (PATTERNS.md item 82)."""
    report = run_audit({"app.py": REGISTER_API.replace("RULE", rule)})
    assert routes(report) == {
        "UserAPI.get": ("flask", ["GET"], "/api/users/<int:user_id>"),
        "UserAPI.delete": ("flask", ["DELETE"], "/api/users/<int:user_id>"),
        "GroupAPI.put": ("flask", ["PUT"], "/api/groups/<string:group_id>"),
    }
    assert report.unrecognized == []


def test_one_endpoint_per_route_of_a_handler(run_audit):
    """PATTERNS.md item 71: stacked decorators, a Flask-RESTful resource under two URLs and
    a Django view in two path()s are one endpoint per route, each with its own methods."""
    report = run_audit(
        {
            "app.py": """
            from flask import Flask
            from flask_restful import Api, Resource

            app = Flask(__name__)
            api = Api(app, prefix="/api")

            @app.route("/items", methods=["GET"])
            @app.route("/items/<int:item_id>", methods=["DELETE"])
            def items(item_id=None):
                return "x"

            class Tag(Resource):
                def get(self, uuid=None):
                    return {}

            api.add_resource(Tag, "/tag", "/tag/<uuid>")
            """,
            "fast.py": """
            from fastapi import FastAPI

            web = FastAPI()

            @web.get("/health")
            @web.get("/healthz")
            def health():
                return {}
            """,
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from django.views import View

            class Edit(View):
                def post(self, request, pk=None):
                    return None
            """,
            "proj/urls.py": """
            from django.urls import path
            from proj.views import Edit

            urlpatterns = [
                path("things/add/", Edit.as_view()),
                path("things/<int:pk>/edit/", Edit.as_view()),
            ]
            """,
        }
    )
    assert sorted((e.handler, ",".join(e.methods), e.route) for e in report.endpoints) == [
        ("Edit.post", "POST", "/things/<int:pk>/edit/"),
        ("Edit.post", "POST", "/things/add/"),
        ("Tag.get", "GET", "/api/tag"),
        ("Tag.get", "GET", "/api/tag/<uuid>"),
        ("health", "GET", "/health"),
        ("health", "GET", "/healthz"),
        ("items", "DELETE", "/items/<int:item_id>"),
        ("items", "GET", "/items"),
    ]


def test_a_guessed_mount_adds_no_route_to_a_placed_handler(run_audit):
    """A URLconf the settings' root reaches only through a list it unpacks, or one nothing
    includes, is walked on its own as a guess: its routes do not become endpoints of a
    handler the root already places, and a handler only a guess reaches keeps one route."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from django.views import View

            class Listed(View):
                def get(self, request):
                    return None

            class Orphan(View):
                def get(self, request):
                    return None
            """,
            "proj/items.py": """
            from django.urls import path
            from proj.views import Listed

            urlpatterns = [path("items/", Listed.as_view())]
            """,
            "proj/api.py": """
            from proj.items import urlpatterns as item_patterns

            urlpatterns = [*item_patterns]
            """,
            "proj/orphans.py": """
            from django.urls import path
            from proj.views import Listed, Orphan

            urlpatterns = [path("again/", Listed.as_view()), path("orphan/", Orphan.as_view())]
            """,
            "proj/urls.py": """
            from django.urls import include, path

            urlpatterns = [path("api/", include("proj.api"))]
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("Listed.get", "/api/items/"),
        ("Orphan.get", "/orphan/"),
    ]


def test_http_method_names_limits_a_view_s_endpoints(run_audit):
    """PATTERNS.md item 101: ``http_method_names`` (here inherited) makes Django's and
    DRF's dispatch refuse every other verb with 405: those are no endpoints."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from django.views import View
            from rest_framework import viewsets

            class ReadPatch:
                http_method_names = ["get", "patch", "head", "options"]

            class EntryViewSet(ReadPatch, viewsets.ModelViewSet):
                pass

            class PingView(View):
                http_method_names = ["post"]

                def get(self, request):
                    return None

                def post(self, request):
                    return None
            """,
            "proj/urls.py": """
            from django.urls import path
            from rest_framework.routers import DefaultRouter
            from proj.views import EntryViewSet, PingView

            router = DefaultRouter()
            router.register("entries", EntryViewSet)
            urlpatterns = [path("ping/", PingView.as_view())] + router.urls
            """,
        }
    )
    assert sorted((e.handler, ",".join(e.methods)) for e in report.endpoints) == [
        ("EntryViewSet.list", "GET"),
        ("EntryViewSet.partial_update", "PATCH"),
        ("EntryViewSet.retrieve", "GET"),
        ("PingView.post", "POST"),
    ]
