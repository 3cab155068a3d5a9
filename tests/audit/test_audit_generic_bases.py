"""Classes deriving from a subscripted generic base (issue 14, found on polar):
``class CustomerRepository(RepositoryBase[Customer])`` has ``RepositoryBase`` in its MRO, so
a ``from_session()`` factory it inherits returns a ``CustomerRepository`` and that class's
override runs. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import CERTAIN

TASKS = """
    from celery import shared_task

    @shared_task
    def notify(pk):
        return pk
"""
REPOSITORIES = """
    from typing import Generic, Self, TypeVar

    from app.tasks import notify

    M = TypeVar("M")


    class RepositoryBase(Generic[M]):
        def __init__(self, session):
            self.session = session

        @classmethod
        def from_session(cls, session) -> Self:
            return cls(session)

        def soft_delete(self, obj):
            obj.deleted = True


    class CustomerRepository(RepositoryBase[int]):
        def soft_delete(self, obj):
            notify.delay(obj.id)


    class OrderRepository(RepositoryBase[str]):
        pass
"""
ROUTES = """
    from fastapi import APIRouter

    from app.repositories import CustomerRepository, OrderRepository

    router = APIRouter()


    @router.delete("/customers/{pk}")
    def delete_customer(pk: int, session=None):
        repository = CustomerRepository.from_session(session)
        repository.soft_delete(pk)


    @router.delete("/orders/{pk}")
    def delete_order(pk: int, session=None):
        repository = OrderRepository.from_session(session)
        repository.soft_delete(pk)
"""


def test_a_subscripted_generic_base_is_in_the_mro(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/repositories.py": REPOSITORIES,
            "app/routes.py": ROUTES,
        },
        {"delete_customer": ("offloaded", False), "delete_order": ("inline", False)},
    )
    # the receiver's class is known through the inherited factory: nothing is guessed
    assert {e.handler: e.confidence for e in report.endpoints} == {
        "delete_customer": CERTAIN,
        "delete_order": CERTAIN,
    }
    assert not any(e.unresolved_calls for e in report.endpoints)
