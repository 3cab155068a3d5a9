"""Routes registered by code rather than decorators (issue 14 item 1): tables of
(path, view) pairs handed to a helper that loops over them, and helpers that forward
``*urls``. Snippets of audited projects (source text only)."""

from __future__ import annotations


def routes(report):
    """{handler: (framework, methods, route)}."""
    return {e.handler: (e.framework, list(e.methods), e.route) for e in report.endpoints}


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
