"""Load demo stores, warehouses, products and orders, and the demo logins."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from connectors.demo import demo_load
from erp.core.services import heartbeat_enqueue


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args: object, **options: object) -> None:
        logins = demo_load()
        # The first worker to start delivers this, so the dashboard shows it alive at once.
        heartbeat_enqueue()
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write("Open http://127.0.0.1:8000/admin/ and sign in as:")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<10} password: {login.password:<18} ({login.role})"
            )
