"""Signal connections that the web process makes (issue 14, round 5, pattern 5).

A receiver connected inside a Django management command (``post_save.connect(self.handler)``
in ``handle()``) is connected only while that command runs; one connected in a test module
only while the tests run; one connected by a helper that only such code calls, likewise. None
of them fires when a request saves a model. Connections at module level of an importable
module, in ``AppConfig.ready()``, or in code that those or request handling reach, do.
Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

from tests.audit.test_audit_runtime_receivers import shop, statuses

HANDLERS = """
    from shop.tasks import crunch

    def order_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""
COMMAND = """
    from django.core.management.base import BaseCommand
    from django.db.models.signals import post_save
    from shop.tasks import crunch

    class Command(BaseCommand):
        def handle(self, *args, **options):
            post_save.connect(self.post_save_handler)
            self.run_forever()

        def post_save_handler(self, sender, instance, **kwargs):
            crunch.delay(instance.pk)

        def run_forever(self):
            pass
"""
WATCHING = """
    from django.db.models.signals import post_save
    from shop.handlers import order_saved

    def start_watching():
        post_save.connect(order_saved)

    def watch_orders():
        start_watching()
"""
WATCH_COMMAND = """
    from django.core.management.base import BaseCommand
    from shop.watching import watch_orders

    class Command(BaseCommand):
        def handle(self, *args, **options):
            watch_orders()
"""


def test_a_receiver_a_management_command_connects_fires_for_no_request(check):
    check(
        shop(
            **{
                "shop/management/__init__.py": "",
                "shop/management/commands/__init__.py": "",
                "shop/management/commands/follow_saves.py": COMMAND,
            }
        ),
        statuses(),
    )


def test_receivers_decorated_or_connected_in_command_and_test_modules_do_not_count(check):
    decorated = """
        from django.db.models.signals import post_save
        from django.dispatch import receiver
        from shop.tasks import crunch

        @receiver(post_save)
        def any_saved(sender, instance, **kwargs):
            crunch.delay(instance.pk)
    """
    connected = """
        from django.db.models.signals import post_save
        from shop.handlers import order_saved

        post_save.connect(order_saved)
    """
    check(
        shop(
            **{
                "shop/handlers.py": HANDLERS,
                "shop/management/commands/replay.py": decorated,
                "shop/tests.py": connected,
                "shop/order_tests.py": decorated,
                "shop/checkout_tests.py": connected,
            }
        ),
        statuses(),
    )


def test_a_helper_only_a_command_calls_connects_nothing_for_requests(check):
    check(
        shop(
            **{
                "shop/handlers.py": HANDLERS,
                "shop/watching.py": WATCHING,
                "shop/management/commands/watch.py": WATCH_COMMAND,
            }
        ),
        statuses(),
    )


def test_a_helper_app_config_ready_or_a_view_also_calls_connects_for_requests(check):
    ready = """
        from django.apps import AppConfig

        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from shop.watching import watch_orders
                watch_orders()
    """
    views = """
        from shop.models import Note
        from shop.watching import start_watching

        def create_note(request):
            start_watching()
            Note.objects.create()
    """
    every_save = statuses(create_order=True, create_note=True, save_tag=True)
    command = {
        "shop/handlers.py": HANDLERS,
        "shop/watching.py": WATCHING,
        "shop/management/commands/watch.py": WATCH_COMMAND,
    }
    check(shop(**command, **{"shop/apps.py": ready}), every_save)
    files = shop(**command)
    files["shop/views.py"] += views.replace("\n    ", "\n")
    check(files, every_save)


def test_connections_at_module_level_or_by_a_helper_nothing_calls_still_count(check):
    """What runs a helper with no call in the project is not known: it still counts; one
    that a command calls counts when the module's own top level calls it too."""
    signals = """
        from django.db.models.signals import post_save
        from shop.handlers import order_saved

        post_save.connect(order_saved)

        def connect_again():
            post_save.connect(order_saved)
    """
    every_save = statuses(create_order=True, create_note=True, save_tag=True)
    check(shop(**{"shop/handlers.py": HANDLERS, "shop/signals.py": signals}), every_save)
    helper_only = signals.replace("\n        post_save.connect(order_saved)\n\n", "\n")
    check(shop(**{"shop/handlers.py": HANDLERS, "shop/signals.py": helper_only}), every_save)
    command = """
        from django.core.management.base import BaseCommand
        from shop.signals import connect_again

        class Command(BaseCommand):
            def handle(self, *args, **options):
                connect_again()
    """
    also_at_import = helper_only + "\n        connect_again()\n"
    files = {"shop/handlers.py": HANDLERS, "shop/management/commands/again.py": command}
    check(shop(**files, **{"shop/signals.py": helper_only}), statuses())
    check(shop(**files, **{"shop/signals.py": also_at_import}), every_save)
