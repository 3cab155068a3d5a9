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
