"""Known slow calls make an inline endpoint heavy; light ones do not."""

from __future__ import annotations

import pytest


def flask_view(imports: str, body: str) -> str:
    return f"""
from flask import Flask
{imports}

app = Flask(__name__)

@app.route("/x", methods=["POST"])
def handler():
{body}
"""


@pytest.mark.parametrize(
    ("imports", "body", "kind"),
    [
        ("import pandas as pd", "    df = pd.read_csv('big.csv')", "dataframe"),
        ("import polars as pl", "    pl.read_parquet('x')", "dataframe"),
        ("import pandas as pd", "    pd.concat([a, b])", "dataframe"),
        (
            "from sklearn.linear_model import LinearRegression",
            "    LinearRegression().fit(X, y)",
            "model_fit",
        ),
        ("import boto3", "    boto3.client('s3').upload_file('a', 'b', 'c')", "object_store"),
        ("from minio import Minio", "    Minio('host').fget_object('b', 'k', 'f')", "object_store"),
        ("import requests", "    requests.post('https://example.com', json={})", "http"),
        (
            "import httpx",
            "    with httpx.Client() as client:\n        client.get('https://x')",
            "http",
        ),
        (
            "import subprocess",
            "    subprocess.run(['convert', 'a.png', 'b.pdf'], check=True)",
            "subprocess",
        ),
        ("import time", "    time.sleep(5)", "sleep"),
        ("import shutil", "    shutil.make_archive('out', 'zip', 'dir')", "file_io"),
        (
            "from openai import OpenAI",
            "    OpenAI().chat.completions.create(model='m', messages=[])",
            "llm",
        ),
        (
            "import anthropic",
            "    anthropic.Anthropic().messages.create(model='m', messages=[])",
            "llm",
        ),
        ("from django.core.mail import send_mail", "    send_mail('s', 'b', 'f', ['t'])", "email"),
        # PATTERNS.md item 79: a local model, vector databases' network clients
        ("from llama_cpp import Llama", "    Llama(model_path='m.gguf')", "llm"),
        (
            "from qdrant_client import QdrantClient",
            "    QdrantClient(url='http://q').get_collection('c')",
            "http",
        ),
        ("import pinecone", "    pinecone.Index('i').describe_index_stats()", "http"),
    ],
)
def test_each_heavy_kind_makes_an_inline_endpoint_heavy(run_audit, imports, body, kind):
    report = run_audit({"app.py": flask_view(imports, body)})
    (endpoint,) = report.endpoints
    assert (endpoint.status, endpoint.heavy) == ("inline", True)
    assert [e.kind for e in endpoint.evidence] == [kind]


def test_clients_created_at_module_level_are_followed(check):
    check(
        {
            "clients.py": """
            import boto3
            s3 = boto3.client("s3")
        """,
            "app.py": flask_view(
                "from clients import s3", "    s3.put_object(Bucket='b', Key='k')"
            ),
        },
        {"handler": ("inline", True)},
    )


@pytest.mark.parametrize(
    "body",
    [
        "    return {'ok': True}",
        "    import json\n    return json.dumps({'a': 1})",
        "    return render_template('x.html')",
        "    from models import Thing\n    return Thing.query.get(1)",
    ],
)
def test_light_handlers_are_inline_and_not_heavy(check, body):
    check(
        {"app.py": flask_view("from flask import render_template", body)},
        {"handler": ("inline", False)},
    )


def test_a_project_method_named_like_a_heavy_call_is_followed_not_matched(check):
    check(
        {
            "urls.py": """
            from django.urls import path
            from views import Detail

            urlpatterns = [path("d/<int:pk>/", Detail.as_view())]
        """,
            "views.py": """
            from rest_framework.generics import RetrieveAPIView

            class Detail(RetrieveAPIView):
                def get(self, request, pk):
                    return self.get_object()
        """,
        },
        {"Detail.get": ("inline", False)},
    )


def test_heavy_calls_from_config_extend_the_built_in_list(check):
    files = {
        "reports.py": """
            def render_pdf(x):
                return x
        """,
        "app.py": flask_view("from reports import render_pdf", "    return render_pdf(1)"),
    }
    check(files, {"handler": ("inline", False)})
    report = check(
        files, {"handler": ("inline", True)}, heavy_calls=(("reports.render_pdf", "pdf"),)
    )
    assert [e.kind for e in report.endpoints[0].evidence] == ["pdf"]
