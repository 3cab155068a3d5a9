"""Routes registered by code rather than decorators (issue 14 item 1): tables of
(path, view) pairs handed to a helper that loops over them, and helpers that forward
``*urls``. Snippets of audited projects (source text only)."""

from __future__ import annotations


def routes(report):
    """{handler: (framework, methods, route)}."""
    return {e.handler: (e.framework, list(e.methods), e.route) for e in report.endpoints}


CRUNCH_TASK = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x
"""
CONFIGURE = """
    def configure_api_from_blueprint(blueprint, route_tuples, decorators=None):
        view_funcs = {}
        for path, resource in route_tuples:
            view_func = view_funcs.get(resource)
            if view_func is None:
                view_func = resource.as_view(resource.__name__)
                for decorator in decorators or []:
                    view_func = decorator(view_func)
                view_funcs[resource] = view_func
            blueprint.add_url_rule(path, view_func=view_func)
        return blueprint
"""
RESOURCES = """
    from flask.views import MethodView

    class LoginResource(MethodView):
        def post(self):
            return "x"

    class BaseList(MethodView):
        def get(self):
            return []

    class TaskList(BaseList):
        def post(self):
            return "x"
"""


def test_a_module_level_table_of_pairs_looped_over_in_a_helper(run_audit):
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/utils.py": CONFIGURE,
            "app/resources.py": RESOURCES,
            "app/auth.py": """
            from flask import Blueprint
            from app.utils import configure_api_from_blueprint
            from app.resources import LoginResource, TaskList

            routes = [
                ("/auth/login", LoginResource),
                ("/tasks", TaskList),
            ]

            blueprint = Blueprint("auth", "auth")
            api = configure_api_from_blueprint(blueprint, routes)
        """,
        }
    )
    assert routes(report) == {
        "LoginResource.post": ("flask", ["POST"], "/auth/login"),
        "TaskList.get": ("flask", ["GET"], "/tasks"),
        "TaskList.post": ("flask", ["POST"], "/tasks"),
    }


def test_a_table_that_is_not_routes_registers_nothing(run_audit):
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/utils.py": CONFIGURE.replace("blueprint.add_url_rule", "print"),
            "app/resources.py": RESOURCES,
            "app/auth.py": """
            from flask import Blueprint
            from app.utils import configure_api_from_blueprint
            from app.resources import LoginResource

            pairs = [("/auth/login", LoginResource)]
            names = [("login", "LoginResource")]

            blueprint = Blueprint("auth", "auth")
            configure_api_from_blueprint(blueprint, pairs)
            configure_api_from_blueprint(blueprint, names)
        """,
        }
    )
    assert report.endpoints == []


def test_a_helper_method_forwarding_star_urls_to_add_resource(run_audit):
    report = run_audit(
        {
            "api.py": """
            from flask_restful import Api, Resource

            def org_scoped_rule(rule):
                return rule

            class ApiExt(Api):
                def add_org_resource(self, resource, *urls, **kwargs):
                    urls = [org_scoped_rule(url) for url in urls]
                    return self.add_resource(resource, *urls, **kwargs)

            class AlertResource(Resource):
                def get(self, alert_id):
                    return {}

                def delete(self, alert_id):
                    return {}

            api = ApiExt()
            api.add_org_resource(AlertResource, "/api/alerts/<alert_id>", endpoint="alert")
        """,
        }
    )
    assert routes(report) == {
        "AlertResource.get": ("flask-restful", ["GET"], "/api/alerts/<alert_id>"),
        "AlertResource.delete": ("flask-restful", ["DELETE"], "/api/alerts/<alert_id>"),
    }


def test_an_action_defined_on_a_base_is_reported_at_its_def_for_each_routed_class(run_audit):
    report = run_audit(
        {
            "core/__init__.py": "",
            "core/mixins.py": """
            from django.views.generic import View

            class DeleteMixin(View):
                def post(self, request, *args, **kwargs):
                    return "deleted"
        """,
            "orgs/__init__.py": "",
            "orgs/views.py": """
            from core.mixins import DeleteMixin

            class DeleteOrganization(DeleteMixin):
                pass

            class DeleteTeam(DeleteMixin):
                def get(self, request):
                    return "confirm"
        """,
            "orgs/urls.py": """
            from django.urls import path
            from orgs.views import DeleteOrganization, DeleteTeam

            urlpatterns = [
                path("org/delete/", DeleteOrganization.as_view()),
                path("team/delete/", DeleteTeam.as_view()),
            ]
        """,
        }
    )
    where = {e.handler: (e.file, e.line) for e in report.endpoints}
    assert where == {
        "DeleteOrganization.post": ("core/mixins.py", 4),
        "DeleteTeam.post": ("core/mixins.py", 4),
        "DeleteTeam.get": ("orgs/views.py", 7),
    }


def test_nested_drf_routers_register_on_the_root_router(run_audit):
    report = run_audit(
        {
            "api/__init__.py": "",
            "api/views.py": """
            from rest_framework.viewsets import ReadOnlyModelViewSet

            class ProjectsViewSet(ReadOnlyModelViewSet):
                pass

            class BuildsViewSet(ReadOnlyModelViewSet):
                pass
        """,
            "api/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter
            from rest_framework_extensions.routers import NestedRouterMixin
            from api.views import BuildsViewSet, ProjectsViewSet

            class Router(NestedRouterMixin, DefaultRouter):
                pass

            router = Router()
            projects = router.register(r"projects", ProjectsViewSet, basename="projects")
            projects.register(
                r"builds", BuildsViewSet, basename="builds", parents_query_lookups=["project__slug"]
            )
            urlpatterns = [path("api/v3/", include(router.urls))]
        """,
        }
    )
    found = {e.handler: e.route for e in report.endpoints}
    assert found["ProjectsViewSet.list"] == "/api/v3/projects/"
    assert found["BuildsViewSet.list"] == "/api/v3/projects/<parent_lookup_project__slug>/builds/"
    assert set(found) == {
        "ProjectsViewSet.list",
        "ProjectsViewSet.retrieve",
        "BuildsViewSet.list",
        "BuildsViewSet.retrieve",
    }


def test_code_in_newer_syntax_than_the_running_python_is_still_read(run_audit):
    report = run_audit(
        {
            "app.py": """
            from flask import Flask

            app = Flask(__name__)

            @app.post("/hook")
            def hook():
                try:
                    return "ok"
                except ValueError, KeyError:
                    return "bad"
        """,
        }
    )
    assert routes(report) == {"hook": ("flask", ["POST"], "/hook")}
    assert report.skipped == []


def test_a_file_that_does_not_parse_in_any_spelling_is_skipped_with_its_reason(run_audit):
    report = run_audit({"app.py": "def broken(:\n    except ValueError, KeyError:\n"})
    assert [s.file for s in report.skipped] == ["app.py"]


def test_a_package_called_build_is_source_but_a_build_output_is_not(run_audit):
    api = """
        from fastapi import APIRouter

        router = APIRouter(prefix="/build")

        @router.get("/tasks")
        def list_tasks():
            return []
    """
    report = run_audit(
        {
            "app/features/build/api.py": api,
            "build/lib/app/features/build/api.py": api.replace("list_tasks", "stale_copy"),
        }
    )
    assert routes(report) == {"list_tasks": ("fastapi", ["GET"], "/build/tasks")}


def test_url_lists_joined_with_plus_and_starred_into_the_root(run_audit):
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from django.views import View

            class Old(View):
                def get(self, request):
                    return "x"

            class New(View):
                def post(self, request):
                    return "x"
        """,
            "proj/work_item.py": """
            from django.urls import path
            from proj.views import New, Old

            old_url_patterns = [path("issues/", Old.as_view())]
            new_url_patterns = [path("work-items/", New.as_view())]
            urlpatterns = old_url_patterns + new_url_patterns
            urlpatterns += urlpatterns[:0]
        """,
            "proj/api.py": """
            from proj.work_item import urlpatterns as work_item_patterns

            urlpatterns = [*work_item_patterns]
        """,
            "proj/urls.py": """
            from django.urls import include, path

            urlpatterns = [path("api/v1/", include("proj.api"))]
        """,
        }
    )
    assert {e.handler: e.route for e in report.endpoints} == {
        "Old.get": "/api/v1/issues/",
        "New.post": "/api/v1/work-items/",
    }


def test_a_module_level_loop_over_a_table_registers_each_pair(run_audit):
    report = run_audit(
        {
            "views.py": """
            from flask import Blueprint

            api = Blueprint("api", __name__, url_prefix="/api")

            def dataset_autocomplete():
                return []

            def tag_autocomplete():
                return []

            util_rules: list = [
                ("/util/dataset/autocomplete", dataset_autocomplete),
                ("/util/tag/autocomplete", tag_autocomplete),
            ]

            for rule, view_func in util_rules:
                api.add_url_rule(rule, view_func=view_func)
        """,
        }
    )
    assert routes(report) == {
        "dataset_autocomplete": ("flask", ["GET"], "/api/util/dataset/autocomplete"),
        "tag_autocomplete": ("flask", ["GET"], "/api/util/tag/autocomplete"),
    }
    assert report.unrecognized == []


def test_a_module_level_loop_over_something_computed_is_reported_not_understood(run_audit):
    report = run_audit(
        {
            "views.py": """
            from flask import Blueprint
            from plugins import discovered_rules

            api = Blueprint("api", __name__)

            for rule, view_func in discovered_rules():
                api.add_url_rule(rule, view_func=view_func)
        """,
        }
    )
    assert report.endpoints == []
    assert [(u.file, u.line) for u in report.unrecognized] == [("views.py", 7)]


def test_flask_appbuilder_list_actions_are_endpoints_of_their_model_view(run_audit):
    report = run_audit(
        {
            "views.py": """
            from flask_appbuilder import ModelView
            from flask_appbuilder.actions import action
            from rest_framework.decorators import action as drf_action

            class SlaMissModelView(ModelView):
                route_base = "/slamiss"

                @action("muldelete", "Delete", "Sure?", single=False)
                def action_muldelete(self, items):
                    return "x"

                @drf_action(detail=True)
                def not_fab(self, request):
                    return "x"
        """,
        }
    )
    assert routes(report) == {
        "SlaMissModelView.action_muldelete": (
            "flask-appbuilder",
            ["POST", "GET"],
            "/slamiss/action_post (action 'muldelete')",
        )
    }


DRF_VIEWS = """
    from rest_framework.viewsets import ModelViewSet, ReadOnlyModelViewSet

    class ItemViewSet(ModelViewSet):
        pass

    class TagViewSet(ReadOnlyModelViewSet):
        pass
"""


def test_a_drf_router_filled_in_helpers_across_modules(run_audit):
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/items/__init__.py": "",
            "proj/items/views.py": DRF_VIEWS,
            "proj/items/api_urls.py": """
            from proj.items.views import ItemViewSet, TagViewSet

            def add_item_urls(router):
                router.register(r"items", ItemViewSet)
                add_tag_urls(router)

            def add_tag_urls(router):
                router.register(r"tags", TagViewSet)
        """,
            "proj/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter
            from proj.items.api_urls import add_item_urls

            router = DefaultRouter()
            add_item_urls(router)
            urlpatterns = [path("api/", include(router.urls))]
        """,
        }
    )
    found = {e.handler: e.route for e in report.endpoints}
    assert found["ItemViewSet.list"] == "/api/items/"
    assert found["ItemViewSet.destroy"] == "/api/items/{pk}/"
    assert found["TagViewSet.retrieve"] == "/api/tags/{pk}/"
    assert "TagViewSet.create" not in found


def test_a_helper_given_a_router_that_registers_nothing_adds_no_endpoints(run_audit):
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/views.py": DRF_VIEWS,
            "proj/urls.py": """
            from django.urls import include, path
            from rest_framework.routers import DefaultRouter

            def describe(router):
                return repr(router)

            router = DefaultRouter()
            describe(router)
            urlpatterns = [path("api/", include(router.urls))]
        """,
        }
    )
    assert report.endpoints == []


def test_litestar_handlers_alone_and_in_controllers(check):
    report = check(
        {
            "tasks.py": CRUNCH_TASK,
            "app.py": """
            from litestar import Controller, Litestar, Router, get, post
            from tasks import crunch

            @get("/health")
            async def health() -> str:
                return "ok"

            class OrderController(Controller):
                path = "/orders"

                @post("/")
                async def create(self, data: dict) -> dict:
                    crunch.delay(data)
                    return data

                @get("/{order_id:int}")
                async def show(self, order_id: int) -> dict:
                    return {}

                def helper(self):
                    return None

            @get("/items")
            async def list_items() -> list:
                return []

            # a Router's path prefixes the handlers and controllers it lists, not the others
            api = Router(path="/api", route_handlers=[OrderController])
            v1 = Router(path="/v1", route_handlers=[list_items])
            app = Litestar(route_handlers=[health, api, v1])
        """,
        },
        {
            "health": ("inline", False),
            "OrderController.create": ("offloaded", False),
            "OrderController.show": ("inline", False),
            "list_items": ("inline", False),
        },
    )
    assert {e.handler: (e.framework, e.route) for e in report.endpoints} == {
        "health": ("litestar", "/health"),
        "OrderController.create": ("litestar", "/api/orders/"),
        "OrderController.show": ("litestar", "/api/orders/{order_id:int}"),
        "list_items": ("litestar", "/v1/items"),
    }


def test_a_view_built_with_as_view_into_a_module_variable_then_registered(run_audit):
    report = run_audit(
        {
            "views.py": """
            from flask import Blueprint
            from flask.views import MethodView

            user = Blueprint("user", __name__, url_prefix="/user")

            class EditView(MethodView):
                def get(self):
                    return "form"

                def post(self):
                    return "saved"

            _edit_view = EditView.as_view("edit")
            user.add_url_rule("/edit", view_func=_edit_view)
        """,
        }
    )
    assert routes(report) == {
        "EditView.get": ("flask", ["GET"], "/user/edit"),
        "EditView.post": ("flask", ["POST"], "/user/edit"),
    }
    assert report.unrecognized == []


def test_add_resource_on_an_object_that_serves_no_routes_is_not_listed(run_audit):
    report = run_audit(
        {
            "data.py": """
            from app.model import Package

            def make():
                pkg = Package()
                pkg.add_resource(url=compute_url())
        """,
        }
    )
    assert report.endpoints == [] and report.unrecognized == []


def test_a_rule_built_with_str_format_of_constants(run_audit):
    report = run_audit(
        {
            "views.py": """
            from flask import Blueprint

            MAX = 3
            api = Blueprint("api", __name__, url_prefix="/api")

            def get_api(ver=1):
                return {}

            def search(kind):
                return {}

            api.add_url_rule("/<int(min=1, max={0}):ver>".format(MAX), view_func=get_api)
            api.add_url_rule("/search/{0}".format(kind_of_search()), view_func=search)
        """,
        }
    )
    assert routes(report) == {
        "get_api": ("flask", ["GET"], "/api/<int(min=1, max=3):ver>"),
        "search": ("flask", ["GET"], "/api/search/{0}"),
    }


def test_django_ninja_routers_and_their_prefixes(check):
    report = check(
        {
            "tasks.py": CRUNCH_TASK,
            "items.py": """
            from ninja import Router
            from tasks import crunch

            router = Router()

            @router.post("/")
            def create_item(request, payload: dict):
                crunch.delay(payload)
                return payload

            @router.api_operation(["GET", "PUT"], "/{item_id}")
            def item(request, item_id: int):
                return {}
        """,
            "api.py": """
            from ninja import NinjaAPI
            from items import router as items_router

            api = NinjaAPI()
            api.add_router("/items/", items_router)

            @api.get("/health")
            def health(request):
                return "ok"
        """,
        },
        {
            "create_item": ("offloaded", False),
            "item": ("inline", False),
            "health": ("inline", False),
        },
    )
    assert {e.handler: (e.framework, list(e.methods), e.route) for e in report.endpoints} == {
        "create_item": ("ninja", ["POST"], "/items/"),
        "item": ("ninja", ["GET", "PUT"], "/items/{item_id}"),
        "health": ("ninja", ["GET"], "/health"),
    }


def test_fastapi_routes_registered_on_a_router_held_by_an_object(check):
    # pattern written down from the test set first (PATTERNS.md), fixed from this snippet
    report = check(
        {
            "tasks.py": CRUNCH_TASK,
            "router.py": """
            from fastapi import APIRouter
            from tasks import crunch

            class ItemsRouter:
                def __init__(self, service):
                    self.service = service
                    self.router = APIRouter()
                    self.router.add_api_route("/", self.create_item, methods=["POST"])
                    self.router.add_api_route("/{item_id}", self.fetch_item, methods=["GET"])

                async def create_item(self, payload: dict):
                    crunch.delay(payload)
                    return payload

                async def fetch_item(self, item_id: str):
                    return {}

                async def not_routed(self):
                    crunch.delay(1)
        """,
            "main.py": """
            from fastapi import FastAPI
            from router import ItemsRouter

            app = FastAPI()
            app.include_router(ItemsRouter(service=None).router, prefix="/items")
        """,
        },
        {
            "ItemsRouter.create_item": ("offloaded", False),
            "ItemsRouter.fetch_item": ("inline", False),
        },
    )
    assert {(e.file, e.line) for e in report.endpoints} == {("router.py", 11), ("router.py", 15)}


def test_a_loop_whose_rows_are_used_whole_keeps_its_registration(run_audit):
    # for locale in mapping: the row is indexed inside the loop, not unpacked; the view is
    # written directly, so the registration is kept as written (its rule is a template)
    report = run_audit(
        {
            "views.py": """
            from flask import Blueprint

            home = Blueprint("home", __name__)

            def redirect_locale(target_locale, path=None):
                return target_locale

            locales_mapping: list = [("zh_TW", "zh_Hant_TW"), ("no", "nb_NO")]

            for locale in locales_mapping:
                legacy_locale = locale[0]
                home.add_url_rule(
                    f"/{legacy_locale}/", view_func=redirect_locale, defaults={"x": locale[1]}
                )
        """,
        }
    )
    assert routes(report) == {"redirect_locale": ("flask", ["GET"], "/{legacy_locale}/")}
