"""CPU cost of the one redactor (events/redact.py) per call, on the texts it sees most: a short
args repr, kwargs with a secret key, an exception, a 2 KB traceback, and an action's
parameters and answer. Every text is unique (no cache hits), as in a real event stream.

    .venv/bin/python bench/redact.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from controlplane.config import DEFAULT_REDACT_PATTERN
from controlplane.events.redact import Redactor


def emit(case: str, value: float, calls: int) -> None:
    line = {"bench": "redact", "case": case, "metric": "cpu_us_per_call",
            "value": round(value, 2), "unit": "us", "calls": calls}  # fmt: skip
    print(json.dumps(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    calls = parser.parse_args().calls
    redactor = Redactor(DEFAULT_REDACT_PATTERN, 4096, 16384)
    redactor.free_text("warm up the rules: " + "x" * 40)
    frame = 'File "/app/shop/orders.py", line 12, in run\n    do(x)\n'
    cases: dict[str, tuple[Callable[[int], object], Callable[[object], object]]] = {
        "args_repr": (lambda n: f"({n}, 'report-{n}.csv', {{'user': 'ann'}})",
                      redactor.call_args),
        "kwargs_with_secret_key": (lambda n: f"{{'password': 'p{n}', 'user': 'ann', 'n': {n}}}",
                                   redactor.call_args),
        "exception": (lambda n: f"ValueError('row {n} failed: disk full on /data/shop')",
                      redactor.free_text),
        "traceback_2kb": (lambda n: frame * 40 + f"ValueError({n})",
                          lambda text: redactor.free_text(text, traceback=True)),
        "action_params_and_answer": (
            lambda n: ({"name": "worker_tasks.tasks.add", "args": [n, 2], "kwargs": {}},
                       {"status": 202, "body": {"task_id": f"6f1c2a9e-{n:012d}", "queue": "q"}}),
            lambda pair: [redactor.structure(part) for part in pair],  # type: ignore[attr-defined]
        ),
    }  # fmt: skip
    for case, (make, redact) in cases.items():
        texts = [make(n) for n in range(calls)]
        started = time.process_time()
        for text in texts:
            redact(text)
        emit(case, (time.process_time() - started) / calls * 1e6, calls)


if __name__ == "__main__":
    main()
