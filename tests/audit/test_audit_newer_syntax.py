"""Code written for a newer Python than the one running the audit (issue 14): PEP 695 type
parameters and aliases (3.12) are read, not skipped, with the file's own line numbers.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

import ast

from controlplane.migrations_audit.newer_syntax import downlevel

SERVICE = """
    from app.tasks import crunch

    type JSON = dict[str, "JSON"] | list["JSON"] | str | int | None


    class Service[
        M: object,
        S: object,
    ]:
        def run[T](self, pk: T) -> T:
            crunch.delay(pk)
            return pk

        def read[T](self, pk: T) -> T:
            return pk


    service = Service()
"""
ROUTES = """
    from fastapi import APIRouter
    from app.service import service

    router = APIRouter(prefix="/items")

    @router.post("/{pk}")
    async def create(pk: int):
        return service.run(pk)

    @router.get("/{pk}")
    async def read(pk: int):
        return service.read(pk)
"""
TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(pk):
        return pk
"""


def test_pep_695_generics_and_aliases_are_read_with_their_dispatches(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/service.py": SERVICE,
            "app/routes.py": ROUTES,
        },
        {"create": ("offloaded", False), "read": ("inline", False)},
    )
    assert report.skipped == []
    [evidence] = next(e for e in report.endpoints if e.handler == "create").evidence
    assert (evidence.file, evidence.line) == ("app/service.py", 11)


def test_downlevel_keeps_lines_and_leaves_plain_names_called_type_alone():
    source = (
        b"class C[\n    T: list[int],\n\n](Base):\n"
        b"    def m[U](self, x: U) -> U:\n"
        b"        type Alias[K] = dict[K, U]\n"
        b"        return x\n"
        b"type = 3\n"
        b"print(type(x))\n"
    )
    tree = ast.parse(downlevel(source))
    cls, assign, call = tree.body
    assert isinstance(cls, ast.ClassDef) and cls.lineno == 1
    assert [b.id for b in cls.bases if isinstance(b, ast.Name)] == ["Base"]
    method = cls.body[0]
    assert isinstance(method, ast.FunctionDef) and method.lineno == 5
    alias = method.body[0]
    assert isinstance(alias, ast.Assign) and alias.lineno == 6
    assert ast.unparse(alias.targets[0]) == "Alias"
    assert ast.unparse(assign) == "type = 3" and assign.lineno == 8
    assert ast.unparse(call) == "print(type(x))"


def test_source_the_running_python_already_reads_is_left_as_it_is():
    source = b"x = [1, 2]\ndef f(a):\n    return a[0]\n"
    assert downlevel(source) == source


# PEP 701 (3.12): a replacement field holds a string in the f-string's own quote.
NESTED_QUOTES = """
    from fastapi import APIRouter
    from app.tasks import crunch

    router = APIRouter()

    @router.post("/rows")
    async def create(row: dict):
        label = f"{row["name"]}: {row['kind']!r:>{row["width"]}}"
        crunch.delay(label)
        return {"label": label}
"""


def test_pep_701_nested_quotes_are_read_with_their_dispatches(check):
    report = check(
        {"app/__init__.py": "", "app/tasks.py": TASKS, "app/routes.py": NESTED_QUOTES},
        {"create": ("offloaded", False)},
    )
    assert report.skipped == []
    [evidence] = next(e for e in report.endpoints if e.handler == "create").evidence
    assert (evidence.file, evidence.line) == ("app/routes.py", 9)


def test_pep_701_swaps_only_what_3_11_cannot_read_and_keeps_every_column():
    source = (
        b'a = f"{d["k"]} {e[\'j\']}" + "{x["  # "note\'\n'
        b'b = f"""{d["k"]}"""\n'
        b"c = f'{d['k']:{w['n']}}' + rf\"\\d{m[\"q\"]}\"\n"
    )
    rewritten = downlevel(source)
    assert len(rewritten) == len(source)
    assert rewritten.splitlines()[0] == b"a = f\"{d['k']} {e['j']}\" + \"{x[\"  # \"note'"
    assert rewritten.splitlines()[1] == source.splitlines()[1]  # 3.11 reads it already
    meant = (
        "a = f\"{d['k']} {e['j']}\" + '{x['\n"
        "b = f\"{d['k']}\"\n"
        'c = f\'{d["k"]:{w["n"]}}\' + rf\'\\d{m["q"]}\'\n'
    )
    assert ast.dump(ast.parse(rewritten)) == ast.dump(ast.parse(meant))


def test_a_third_level_of_quotes_stays_skipped_with_its_reason(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/routes.py": NESTED_QUOTES,
            "app/deep.py": 'x = f"{f"{d["k"]}"}"\n',
        },
        {"create": ("offloaded", False)},
    )
    assert [s.file for s in report.skipped] == ["app/deep.py"]
    assert "f-string" in report.skipped[0].reason
