"""Functions looked up by a literal name (issue 14, brief item 5): ``get_action("name")(...)``
where the lookup returns something the audit cannot follow (a registry filled at run time)
and the project's tables map that literal name to functions (``{"create": create, ...}``,
often returned by plugins). Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

ACTIONS = """
    from rq import Queue

    queue = Queue()

    def reindex(pk):
        return pk

    def datastore_create(context, data):
        queue.enqueue(reindex, data["id"])

    def datastore_search(context, data):
        return []
"""
PLUGIN = """
    from ext import actions

    class DatastorePlugin:
        def get_actions(self):
            return {
                "datastore_create": actions.datastore_create,
                "datastore_search": actions.datastore_search,
            }
"""
LOGIC = """
    _actions = {}

    def get_action(name: str) -> "Action":
        return _actions[name]
"""


def app(body: str) -> str:
    return f"""
from flask import Flask, request
from logic import get_action

app = Flask(__name__)

@app.post("/x")
def handler():
{body}
    return "ok"
"""


def files(body: str) -> dict[str, str]:
    return {
        "ext/__init__.py": "",
        "ext/actions.py": ACTIONS,
        "ext/plugin.py": PLUGIN,
        "logic.py": LOGIC,
        "app.py": app(body),
    }


def test_a_lookup_by_a_literal_name_runs_the_functions_tables_map_it_to(check):
    report = check(
        files('    get_action("datastore_create")({}, {"id": 1})'),
        {"handler": ("offloaded", False)},
    )
    [dispatch] = [e for e in report.endpoints[0].evidence if e.kind == "dispatch"]
    assert (dispatch.file, dispatch.line, dispatch.queue_system) == ("ext/actions.py", 9, "rq")
    assert dispatch.via == ("app.py:handler", "ext/actions.py:datastore_create")


def test_lookups_of_other_names_or_of_names_not_known_statically_are_not_followed(check):
    for body in (
        '    get_action("datastore_search")({}, {})',  # mapped to a function that reads
        '    get_action("package_create")({}, {})',  # in no table
        '    get_action(request.args["action"])({}, {})',  # a name known only at run time
        '    action = "datastore_create"\n    print(action)',  # a string, no lookup
    ):
        check(files(body), {"handler": ("inline", False)})


def test_a_single_pair_is_no_table_of_functions(check):
    tree = files('    get_action("datastore_create")({}, {"id": 1})')
    tree["ext/plugin.py"] = """
    from ext import actions

    def options():
        return {"datastore_create": actions.datastore_create}
    """
    check(tree, {"handler": ("inline", False)})
