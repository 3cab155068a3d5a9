"""In-process background work: handed off and not waited for, versus waited for (inline)."""

from __future__ import annotations

import pytest

WORK = """
    import requests

    def work():
        return requests.get("https://example.com")

    async def awork():
        return work()
"""


def endpoint(body: str, asynchronous: bool = True) -> str:
    keyword = "async def" if asynchronous else "def"
    return f"""
import asyncio
import threading
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from fastapi import APIRouter, BackgroundTasks
from work import work, awork

router = APIRouter()
executor = ThreadPoolExecutor(4)

@router.post("/x")
{keyword} handler(background_tasks: BackgroundTasks):
{body}
"""


@pytest.mark.parametrize(
    "body",
    [
        "    asyncio.create_task(awork())",
        "    asyncio.ensure_future(awork())",
        "    loop = asyncio.get_running_loop()\n    loop.create_task(awork())",
        "    loop = asyncio.get_running_loop()\n    loop.run_in_executor(None, work)",
        "    task = asyncio.create_task(awork())\n    return {'started': True}",
        "    background_tasks.add_task(work)",
        "    threading.Thread(target=work, daemon=True).start()",
        "    t = threading.Thread(target=work)\n    t.start()",
        "    executor.submit(work)",
        "    future = executor.submit(work)\n    return {'id': id(future)}",
        "    multiprocessing.Process(target=work).start()",
        "    import subprocess\n    subprocess.Popen(['manage.py', 'import'])",  # not waited
        "    self_task = asyncio.create_task(awork())\n    handler.task = self_task\n"
        "    await asyncio.sleep(0)",
    ],
)
def test_work_that_outlives_the_response_is_inprocess_background(check, body):
    check({"work.py": WORK, "api.py": endpoint(body)}, {"handler": ("inprocess_background", False)})


@pytest.mark.parametrize(
    "body",
    [
        "    await asyncio.create_task(awork())",
        "    task = asyncio.create_task(awork())\n    return await task",
        "    tasks = [asyncio.create_task(awork()) for _ in range(3)]\n"
        "    await asyncio.gather(*tasks)",
        "    pending = []\n    pending.append(asyncio.ensure_future(awork()))\n"
        "    await asyncio.wait(pending)",
        "    async with asyncio.TaskGroup() as tg:\n        tg.create_task(awork())",
        "    await asyncio.to_thread(work)",
        "    loop = asyncio.get_running_loop()\n    await loop.run_in_executor(None, work)",
        "    t = threading.Thread(target=work)\n    t.start()\n    t.join()",
        "    future = executor.submit(work)\n    return future.result()",
        "    with ThreadPoolExecutor() as pool:\n        pool.submit(work)",
        "    p = multiprocessing.Process(target=work)\n    p.start()\n    p.join()",
        # a child process waited for is a subprocess in the request (heavy)
        "    import subprocess\n    proc = subprocess.Popen(['ls'])\n    proc.wait()",
        "    import subprocess\n    out, _ = subprocess.Popen(['ls']).communicate()",
        "    import subprocess\n    with subprocess.Popen(['ls']) as proc:\n        pass",
        "    tasks = [asyncio.create_task(awork()) for _ in range(3)]\n"
        "    for task in tasks:\n        await task",
    ],
)
def test_work_the_handler_waits_for_is_inline_and_keeps_its_heavy_calls(check, body):
    check({"work.py": WORK, "api.py": endpoint(body)}, {"handler": ("inline", True)})


def test_background_evidence_names_the_hand_off(run_audit):
    report = run_audit(
        {"work.py": WORK, "api.py": endpoint("    background_tasks.add_task(work, 1)")}
    )
    (endpoint_,) = report.endpoints
    assert [(e.kind, e.file, e.line, e.call) for e in endpoint_.evidence] == [
        ("background", "api.py", 13, "background_tasks.add_task(work, 1)")
    ]


def test_heavy_work_inside_the_background_task_does_not_make_the_request_heavy(check):
    check(
        {"work.py": WORK, "api.py": endpoint("    asyncio.create_task(awork())")},
        {"handler": ("inprocess_background", False)},
    )


def test_celery_dispatch_wins_over_background_work(check):
    check(
        {
            "work.py": WORK,
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def crunch():
                return 1
        """,
            "api.py": endpoint(
                "    from tasks import crunch\n    crunch.delay()\n"
                "    background_tasks.add_task(work)"
            ),
        },
        {"handler": ("offloaded", False)},
    )


def test_awaiting_something_else_on_the_same_object_does_not_wait_for_the_task(check):
    check(
        {
            "work.py": WORK,
            "api.py": """
            import asyncio
            from fastapi import APIRouter
            from work import awork

            router = APIRouter()

            class Jobs:
                def __init__(self):
                    self.running = None

                async def start(self):
                    self.running = asyncio.create_task(awork())
                    await self.save()

                async def save(self):
                    return None

                async def wait(self):
                    await self.running

            jobs = Jobs()

            @router.post("/start")
            async def start():
                await jobs.start()
        """,
        },
        {"start": ("inprocess_background", False)},
    )


# Round 11, items 84 and 85: handles put in a gathered list, and handles handed to the caller
HANDED = """
    import asyncio
    from fastapi import APIRouter
    from work import awork

    router = APIRouter()


    def start_loops():
        loops = [asyncio.create_task(awork()), asyncio.create_task(awork())]
        return "channel", loops


    def watch():
        return asyncio.create_task(awork())


    @router.post("/kept")
    async def kept():
        tasks = []
        for _ in range(3):
            task = asyncio.create_task(awork())
            tasks.append(task)
        await asyncio.gather(*tasks)


    @router.post("/returned")
    async def returned():
        channel, loops = start_loops()
        await asyncio.gather(*loops)


    @router.post("/cancelled")
    async def cancelled():
        watcher = watch()
        try:
            await asyncio.sleep(0.01)
        finally:
            watcher.cancel()


    @router.post("/dropped")
    async def dropped():
        watch()
"""


def test_handles_gathered_through_a_list_or_handed_to_the_caller(check):
    """Waited when the list holding them is gathered, or the caller awaits or cancels what a
    helper returns; left running where the caller drops it."""
    check(
        {"work.py": WORK, "api.py": HANDED},
        {
            "kept": ("inline", True),  # awork() is heavy work, done in the request
            # a handed task's work is not counted in the request (a caller may drop it)
            "returned": ("inline", False),
            "cancelled": ("inline", False),
            "dropped": ("inprocess_background", False),
        },
    )


# Round 11, item 86: a task kept on self, awaited by a sibling method the request also runs
SIBLING = """
    import asyncio
    from fastapi import APIRouter
    from work import awork

    router = APIRouter()


    class Base:
        async def close(self):
            if self._task is not None:
                self._task.cancel()


    class Transcriber(Base):
        def __init__(self):
            self._task = None

        def start(self):
            self._task = asyncio.ensure_future(awork())

        async def settled(self):
            await self._task


    @router.post("/settled")
    async def settled():
        t = Transcriber()
        t.start()
        await t.settled()


    @router.post("/closed")
    async def closed():
        t = Transcriber()
        t.start()
        await t.close()


    @router.post("/left")
    async def left():
        Transcriber().start()
"""


def test_a_task_kept_on_self_and_waited_by_a_method_the_request_runs(check):
    """``settled()`` (the class's) or ``close()`` (a base's) waits for it; ``left`` only
    starts it."""
    check(
        {"work.py": WORK, "api.py": SIBLING},
        {
            "settled": ("inline", False),
            "closed": ("inline", False),
            "left": ("inprocess_background", False),
        },
    )


# A hand-off reached only through a guessed receiver is possible, not certain
GUESSED_HANDOFF = """
    import asyncio
    from fastapi import APIRouter
    from work import awork

    router = APIRouter()


    class Uploader:
        async def store_artifact(self, key):
            asyncio.create_task(awork())


    @router.post("/guessed")
    async def guessed(store):
        await store.store_artifact("k")
"""


def test_a_handoff_reached_through_a_guessed_receiver_is_likely(check):
    report = check(
        {"work.py": WORK, "api.py": GUESSED_HANDOFF}, {"guessed": ("inprocess_background", False)}
    )
    assert report.endpoints[0].confidence == "likely"
