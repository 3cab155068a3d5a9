"""Shapes round 18 found read wrong (PATTERNS.md items 196-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations


def test_a_child_process_the_request_ends_is_not_background(check):
    """Item 196: a subprocess (or a multiprocessing.Process) the request terminates or
    kills does not outlive the response: inline, heavy for a subprocess. One never ended
    stays in the background."""
    check(
        {
            "app.py": """
            import multiprocessing
            import subprocess
            from flask import Flask

            app = Flask(__name__)

            def version():
                proc = subprocess.Popen(["gpg", "--version"], stdout=subprocess.PIPE)
                out = proc.stdout.read()
                proc.terminate()
                return out

            def work():
                return 1

            @app.get("/terminated")
            def terminated():
                return version()

            @app.get("/killed")
            def killed():
                proc = subprocess.Popen(["gpg", "--list-keys"], stdout=subprocess.PIPE)
                first = proc.stdout.readline()
                proc.kill()
                return first

            @app.get("/process")
            def process():
                worker = multiprocessing.Process(target=work)
                worker.start()
                worker.terminate()
                return "ok"

            @app.get("/left")
            def left():
                subprocess.Popen(["gpg", "--refresh-keys"])
                return "started"
            """
        },
        {
            "terminated": ("inline", True),
            "killed": ("inline", True),
            "process": ("inline", False),
            "left": ("inprocess_background", False),
        },
    )
