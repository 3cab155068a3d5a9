"""Which calls dispatch to Celery, hand work to the same process, or are known to be slow.

Patterns are ``fnmatch`` globs over rendered names (``*`` also spans dots). Built-in heavy
patterns only apply to calls outside the project; patterns from the config apply to project
functions too and also match as a dotted suffix (``app.ml.train`` matches
``backend.app.ml.train``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from .config import AuditConfig
from .queues import CELERY_APPLY

DISPATCH = "dispatch"
BACKGROUND = "background"
INLINE_FALLBACK = "inline_fallback"
EAGER_MODE = "eager_mode"
SETTING_GUARD = "setting_guard"
# What the audit saw but could not interpret (issue 14): never evidence of work, but what
# makes a status "likely" rather than "certain", or "unresolved" for a possible dispatch.
UNRESOLVED_CALL = "unresolved_call"
UNRESOLVED_DISPATCH = "unresolved_dispatch"
# Notes on a dispatch site: what its recognition rests on
BY_CONFIG = "config"  # a configured dispatch wrapper or task name
BY_NAME = "name"  # a receiver outside the project or unresolved, taken for a task by its name

# what a requests-oauthlib session sends over the network; authorization_url(),
# new_state() and the response parsers are local (PATTERNS.md item 186)
_OAUTH_SESSION_REQUESTS = (
    "fetch_token",
    "refresh_token",
    "fetch_request_token",
    "fetch_access_token",
    "request",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
)
HEAVY_PATTERNS: dict[str, tuple[str, ...]] = {
    "dataframe": (
        "pandas.read_*",
        "pandas.concat",
        "pandas.merge",
        "pandas.pivot_table",
        "pandas.crosstab",
        "pandas.get_dummies",
        "*.to_parquet",
        "*.to_excel",
        "*.to_feather",
        "*.groupby().agg",
        "*.groupby().apply",
        "*.groupby().transform",
        "*.pivot_table",
        "*.rolling().apply",
        "polars.read_*",
        "polars.scan_*",
        "pyarrow.parquet.read_table",
        "pyarrow.parquet.write_table",
        "pyarrow.csv.read_csv",
        "pyarrow.feather.read_*",
        "pyarrow.ipc.*",
        "pyarrow.flight.*",
        "dask.dataframe.read_*",
        "numpy.loadtxt",
        "numpy.genfromtxt",
        "openpyxl.load_workbook",
        "xlrd.open_workbook",
    ),
    "model_fit": (
        "*.fit",
        "*.fit_transform",
        "*.fit_predict",
        "*.partial_fit",
        "xgboost.train",
        "lightgbm.train",
        "*.backward",
        "statsmodels.*.fit",
        "prophet.Prophet().fit",
    ),
    "object_store": (
        "boto3.client().*",
        "boto3.resource().*",
        "boto3.session.Session().*",
        "minio.Minio().*",
        "*.put_object",
        "*.get_object",
        "*.fput_object",
        "*.fget_object",
        "*.upload_file",
        "*.download_file",
        "*.upload_fileobj",
        "*.download_fileobj",
        "*.list_objects",
        "*.list_objects_v2",
        "*.copy_object",
        "*.upload_blob",
        "*.download_blob",
        "google.cloud.storage.*",
        "azure.storage.blob.*",
        "s3fs.S3FileSystem().*",
    ),
    "http": (
        "requests.get",
        "requests.post",
        "requests.put",
        "requests.patch",
        "requests.delete",
        "requests.head",
        "requests.request",
        "requests.Session().*",
        "requests.session().*",
        "httpx.get",
        "httpx.post",
        "httpx.put",
        "httpx.patch",
        "httpx.delete",
        "httpx.head",
        "httpx.request",
        "httpx.stream",
        "httpx.Client().*",
        "httpx.AsyncClient().*",
        "aiohttp.ClientSession().*",
        "urllib.request.urlopen",
        "urllib3.PoolManager().*",
        "urllib3.request",
        # libcurl and plain sockets: a request made, a connection opened (item 136)
        "pycurl.Curl().perform",
        "pycurl.Curl().perform_rb",
        "pycurl.Curl().perform_rs",
        "socket.create_connection",
        "socket.socket().connect",
        # vector databases' network clients (PATTERNS.md item 79)
        "qdrant_client.QdrantClient().*",
        "qdrant_client.AsyncQdrantClient().*",
        "pinecone.Index().*",
        "pinecone.Pinecone().*",
        "weaviate.Client().*",
        "chromadb.HttpClient().*",
        # payment, messaging and identity services' SDKs: each call is a request (item 100)
        "stripe.*",
        "twilio.rest.Client().*",
        "google.oauth2.id_token.verify_oauth2_token",
        "apprise.Apprise().notify",
        "apprise.Apprise().async_notify",
        # Slack's Web API client: each method is an API call (item 114)
        "slack_sdk.WebClient().*",
        "slack_sdk.web.WebClient().*",
        "slack_sdk.web.client.WebClient().*",
        "slack_sdk.webhook.WebhookClient().send",
        "owncloud.Client().*",  # pyocclient: WebDAV requests (PATTERNS.md item 192)
        "akismet.Akismet().*",  # each check is a request to Akismet's service
        # auth libraries' HTTP sessions, requests.Session / httpx.Client subclasses (item 123)
        "authlib.integrations.*Session().*",
        "authlib.integrations.httpx_client.*Client().*",
        "*.authorize_access_token",  # authlib's Flask/Django/Starlette clients: the token call
        # requests-oauthlib: the token fetches and requests, not authorization_url() (item 186)
        *(
            f"requests_oauthlib.{session}().{method}"
            for session in ("OAuth1Session", "OAuth2Session")
            for method in _OAUTH_SESSION_REQUESTS
        ),
        "edx_rest_api_client.client.OAuthAPIClient().*",
        "edx_rest_api_client.OAuthAPIClient().*",
        "fastapi_sso.*().verify_and_process",
        # LNURL: each resolves or calls the service's URL
        "lnurl.handle",
        "lnurl.execute*",
        # cloud SDKs whose client methods are API requests (PATTERNS.md item 170)
        "aliyunsdkcore.client.AcsClient().do_action*",
        "alibabacloud_*.client.Client().*",
        "tencentcloud.*Client().*",
        "hvac.Client().*",
        "kubernetes.client.*Api().*",
        "docker.from_env().*",
        "docker.DockerClient().*",
        "docker.APIClient().*",
    ),
    # a session with another host that is not HTTP: SSH, LDAP, a network device's API
    "remote": (
        "paramiko.SSHClient().connect",
        "paramiko.SSHClient().exec_command",
        "netmiko.ConnectHandler",
        "netmiko.ConnectHandler().*",
        "napalm.get_network_driver()().*",
        "ldap3.Connection().bind",
        "ldap3.Connection().search",
        "ldap3.Connection().modify",
        "ldap3.Connection().add",
        "ldap.initialize().*bind*",
        "ldap.initialize().search*",
    ),
    "subprocess": (
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "os.system",
        "os.popen",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        # libraries that run a program for each call (PATTERNS.md item 192)
        "pdf2image.convert_from_path",
        "pdf2image.convert_from_bytes",
        "pdfkit.from_string",
        "pdfkit.from_url",
        "pdfkit.from_file",
        "exiftool.ExifTool().*",
        "exiftool.ExifToolHelper().*",
    ),
    # a document rendered in the request: HTML laid out into a PDF (PATTERNS.md item 192)
    "render": (
        "weasyprint.HTML().write_pdf",
        "weasyprint.HTML().render",
        "xhtml2pdf.pisa.CreatePDF",
    ),
    "sleep": ("time.sleep",),
    "file_io": (
        "shutil.copyfileobj",
        "shutil.copytree",
        "shutil.make_archive",
        "shutil.unpack_archive",
        "zipfile.ZipFile",
        "tarfile.open",
        "*.extractall",
        "joblib.load",
        "joblib.dump",
        # whole documents parsed (PATTERNS.md item 100)
        "pypdf.PdfReader",
        "PyPDF2.PdfReader",
        "fitz.open",
        "pymupdf.open",
        "pikepdf.open",  # opened whole, and saved whole (PATTERNS.md item 192)
        "pikepdf.Pdf.open",
        "langchain_community.document_loaders.*().load",
    ),
    "llm": (
        "openai.OpenAI().*",
        "openai.AsyncOpenAI().*",
        "openai.AzureOpenAI().*",
        "openai.ChatCompletion.*",
        "openai.Completion.*",
        "openai.Embedding.*",
        "anthropic.Anthropic().*",
        "anthropic.AsyncAnthropic().*",
        "*.chat.completions.create",
        "*.completions.create",
        "*.embeddings.create",
        "*.messages.create",
        "*.generate_content",
        "litellm.completion",
        "litellm.acompletion",
        "litellm.embedding",
        "litellm.aembedding",
        "llama_cpp.Llama",  # loads the model file (PATTERNS.md item 79)
        "llama_cpp.Llama().*",
        "google.generativeai.*",
        "cohere.*",
        # pydantic-ai's agents: a run is one or more model requests (PATTERNS.md item 175)
        "pydantic_ai.Agent().run",
        "pydantic_ai.Agent().run_sync",
        "pydantic_ai.Agent().run_stream",
        "pydantic_ai.Agent().iter",
        # LangChain's chat and LLM models: each call is a model request (PATTERNS.md 220)
        "langchain.chat_models.*().*",
        "langchain.llms.*().*",
        "langchain_openai.*().*",
        "langchain_anthropic.*().*",
        "langchain_community.chat_models.*().*",
        "langchain_community.llms.*().*",
        # Hugging Face models run in the process: loading one, and running it
        "transformers.pipeline",
        "transformers.pipeline()*",
        "transformers.*.from_pretrained",
        "sentence_transformers.SentenceTransformer",
        "sentence_transformers.SentenceTransformer().*",
    ),
    "email": (
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "django.core.mail.send_mail",
        "django.core.mail.send_mass_mail",
        "django.core.mail.mail_admins",
        "django.core.mail.*().send",
        "resend.Emails.send",
        "sendgrid.SendGridAPIClient().send",
        "flask_mail.Mail().send",
        "fastapi_mail.FastMail().send_message",  # SMTP in the request (item 186)
        "aiosmtplib.send",
        "aiosmtplib.SMTP().send_message",
        "aiosmtplib.SMTP().sendmail",
        # Django's password reset: the form's save() mails the link, in the request; its
        # view's post() (form_valid) does through it (PATTERNS.md item 135)
        "django.contrib.auth.forms.PasswordResetForm().save",
        "django.contrib.auth.forms.PasswordResetForm().send_mail",
        "django.contrib.auth.views.PasswordResetView().post",
        "django.contrib.auth.views.PasswordResetView().form_valid",
        # django-allauth renders the template and sends through Django's mail, in the request
        "allauth.account.adapter.get_adapter().send_mail",
        "allauth.account.adapter.get_adapter().send_confirmation_mail",
        "allauth.account.utils.send_email_confirmation",
        # its views a project derives from: signing up mails a verification link, a reset
        # the reset link, adding an address a confirmation (PATTERNS.md item 155)
        "allauth.account.views.SignupView().post",
        "allauth.account.views.SignupView().form_valid",
        "allauth.account.views.PasswordResetView().post",
        "allauth.account.views.PasswordResetView().form_valid",
        "allauth.account.views.EmailView().post",
        # Open edX's messaging: ace.send(msg) renders and delivers through its channel
        "edx_ace.ace.send",
        "edx_ace.send",
    ),
}
HEAVY_KINDS = frozenset(HEAVY_PATTERNS) | {"configured"}
# Methods of a client a heavy pattern covers that do no I/O: a URL signed locally, a
# paginator or waiter handed out (the calls on those are the requests; item 163)
LOCAL_CLIENT_CALLS = (
    "*.generate_presigned_url",
    "*.generate_presigned_post",
    "*.get_paginator",
    "*.get_waiter",
    "*.can_paginate",
)

# Work handed to something in this process that outlives the response, unless waited for.
BACKGROUND_PATTERNS = (
    "asyncio.create_task",
    "asyncio.ensure_future",
    "asyncio.run_coroutine_threadsafe",  # a coroutine handed to another thread's loop
    "*.create_task",
    "*.ensure_future",
    "*.run_in_executor",
    "threading.Thread",
    "threading.Timer",
    "multiprocessing.Process",
    "subprocess.Popen",  # a child process the response does not wait for
    "*Executor().submit",
    "*executor.submit",
    "*Executor().map",
    "*executor.map",
    "*Pool().apply_async",
    "*Pool().map_async",
    "*Pool().starmap_async",
    "*pool.apply_async",
    "*pool.map_async",
    "*pool.submit",
    "fastapi.BackgroundTasks().add_task",
    "fastapi.background.BackgroundTasks().add_task",
    "starlette.background.BackgroundTasks().add_task",
    "*background_tasks.add_task",
    "*background.add_task",
    "*bg_tasks.add_task",
    "starlette.background.BackgroundTask",
    "litestar.background_tasks.BackgroundTask",
    "*.add_background_task",  # Quart: runs after the response, in this process
    "gevent.spawn",
    "gevent.spawn_later",
    "eventlet.spawn",
    "eventlet.spawn_n",
    "*.spawn_callback",
    "*.start_soon",
    "*scheduler.add_job",
)
# Calls that run a function passed to them and wait for it: the function is inline work.
RUNNER_PATTERNS = (
    "asyncio.to_thread",
    "asyncio.run",
    "*.run_until_complete",
    "*.run_in_threadpool",
    "anyio.to_thread.run_sync",
    "asgiref.sync.sync_to_async",
    "asgiref.sync.async_to_sync",
    "*.run_sync",
    "django.db.transaction.on_commit",
    "asyncer.asyncify",  # await asyncify(fn)(...): fn in a worker thread, awaited
    "asyncer.syncify",
    "*.soonify",  # a task group's soonify(fn)(...): joined when the group's block ends
)
CANVAS = frozenset(
    {
        "chain",
        "group",
        "chord",
        "chunks",
        "signature",
        "Signature",
        "xmap",
        "xstarmap",
        "maybe_signature",
    }
)
TASK_DECORATORS = frozenset({"task", "shared_task", "periodic_task"})
# a task's methods that make a signature: of one call, or of many (map, starmap, chunks)
_SIGNATURE_MAKERS = (
    ".s()",
    ".si()",
    ".signature()",
    ".subtask()",
    ".clone()",
    ".map()",
    ".starmap()",
    ".chunks()",
)
# a signature's methods that return it changed: options, callbacks
_SIGNATURE_MODIFIERS = (".set()", ".on_error()", ".link()", ".link_error()", ".clone()")


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    joined = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
    return re.compile(joined) if joined else None


def _compile_kinds(kinds: dict[str, list[str]]) -> re.Pattern[str] | None:
    groups = []
    for index, (_kind, patterns) in enumerate(kinds.items()):
        if patterns:
            inner = "|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)
            groups.append(f"(?P<k{index}>{inner})")
    return re.compile("|".join(groups)) if groups else None


def _suffix_patterns(patterns: Iterable[str]) -> list[str]:
    """A configured ``a.b`` also matches ``x.a.b``: users write names as they import them."""
    out = []
    for pattern in patterns:
        out.append(pattern)
        if not pattern.startswith("*"):
            out.append("*." + pattern)
    return out


def _kind_of(table: re.Pattern[str] | None, kinds: list[str], name: str) -> str | None:
    """The kind whose pattern group matches the whole name, or None."""
    if table is None:
        return None
    match = table.fullmatch(name)
    if match is None or match.lastgroup is None:
        return None
    return kinds[int(match.lastgroup[1:])]


class Markers:
    """Compiled pattern tables: built-ins plus what the audited project's config adds."""

    def __init__(self, config: AuditConfig) -> None:
        self.kind_names = list(HEAVY_PATTERNS)
        self._heavy = _compile_kinds({k: list(v) for k, v in HEAVY_PATTERNS.items()})
        self._local = _compile(LOCAL_CLIENT_CALLS)
        configured: dict[str, list[str]] = {}
        for pattern, kind in config.heavy_calls:
            configured.setdefault(kind, []).extend(_suffix_patterns([pattern]))
        self.configured_names = list(configured)
        self._configured = _compile_kinds(configured)
        self._background = _compile(BACKGROUND_PATTERNS)
        self._runner = _compile(RUNNER_PATTERNS)
        self._wrappers = _compile(_suffix_patterns(config.dispatch_wrappers))
        self._tasks = _compile(_suffix_patterns(config.task_names))
        self.task_tails = frozenset(n.rsplit(".", 1)[-1] for n in config.task_names if "*" not in n)
        self._memo_heavy: dict[str, str | None] = {}
        self._memo_background: dict[str, bool] = {}
        self._memo_runner: dict[str, bool] = {}

    def heavy(self, name: str) -> str | None:
        """Heavy kind of a call outside the project, by built-in pattern.

        Memoised, as are ``background`` and ``runner``: a function is summarised once per
        context it is reached in, and asks about the same names each time."""
        memo = self._memo_heavy
        if name not in memo:
            kind = _kind_of(self._heavy, self.kind_names, name)
            local = kind is not None and self._local is not None and self._local.fullmatch(name)
            memo[name] = None if local else kind
        return memo[name]

    def configured_heavy(self, name: str) -> str | None:
        return _kind_of(self._configured, self.configured_names, name)

    def background(self, name: str) -> bool:
        memo = self._memo_background
        if name not in memo:
            memo[name] = self._background is not None and bool(self._background.fullmatch(name))
        return memo[name]

    def runner(self, name: str) -> bool:
        memo = self._memo_runner
        if name not in memo:
            memo[name] = self._runner is not None and bool(self._runner.fullmatch(name))
        return memo[name]

    def wrapper(self, name: str) -> bool:
        return self._wrappers is not None and self._wrappers.fullmatch(name) is not None

    def task_named(self, name: str) -> bool:
        if self._tasks is not None and self._tasks.fullmatch(name) is not None:
            return True
        return name.rsplit(".", 1)[-1] in self.task_tails


def dispatch_shape(name: str) -> tuple[str, str] | None:
    """How a call would enqueue Celery work, if it has that shape.

    Returns ("task", receiver) when ``receiver`` must still be shown to be a task,
    ("canvas", receiver) for a chain/group/chord being applied, ("send_task", receiver)
    for ``app.send_task(...)``; None otherwise.
    """
    base, _, tail = name.rpartition(".")
    if tail in CELERY_APPLY:
        obj = base
    elif tail == "send_task":
        return ("send_task", base)
    elif name.endswith("()"):
        obj = name  # calling a signature or a canvas object: sig(), chain(...)()
    else:
        return None
    head = obj.rstrip("()").rsplit(".", 1)[-1]
    if obj.endswith("()") and head in CANVAS and obj.startswith("celery."):
        return ("canvas", obj)
    signature = _signature_of(obj)
    if signature is not None:
        return ("task", signature)
    if obj is name:
        return None
    return ("task", obj)


def _signature_of(obj: str) -> str | None:
    """``crunch`` for ``crunch.s()``, ``crunch.map()``, ``crunch.s().set().on_error()``: the
    task a signature (of one call or of many) was made from, past calls that modify it."""
    while True:
        for suffix in _SIGNATURE_MAKERS:
            if obj.endswith(suffix):
                return obj[: -len(suffix)]
        modifier = next((m for m in _SIGNATURE_MODIFIERS if obj.endswith(m)), None)
        if modifier is None:
            return None
        obj = obj[: -len(modifier)]


def plausible_task_name(receiver: str) -> bool:
    """For receivers outside the project or unresolved: does the name look like a task?"""
    if receiver.endswith(("task()", ".tasks[]")) or ".tasks." in receiver:
        return True
    last = receiver.rstrip("()[]").rsplit(".", 1)[-1].lstrip("~").lower()
    return last.endswith("task") or last.endswith("_job")
