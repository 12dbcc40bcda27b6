"""Compile the translation catalogues (.po -> .mo) under LOCALE_PATHS."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compile every .po under LOCALE_PATHS into its .mo: with GNU msgfmt when it "
        "is installed (it also checks format strings), else with polib."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        msgfmt = shutil.which("msgfmt")
        compiled = 0
        for root in settings.LOCALE_PATHS:
            for po in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                mo = po.with_suffix(".mo")
                if msgfmt:
                    result = subprocess.run(  # noqa: S603
                        [msgfmt, "--check-format", "-o", str(mo), str(po)],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if result.returncode:
                        raise CommandError(f"{po}: {result.stderr.strip()}")
                else:
                    import polib

                    # Like msgfmt, polib leaves fuzzy and untranslated entries out.
                    polib.pofile(str(po)).save_as_mofile(str(mo))
                compiled += 1
        if options["verbosity"]:
            self.stdout.write(
                f"compiled {compiled} catalogue(s) with "
                f"{'msgfmt' if msgfmt else 'polib'}"
            )
