"""Back up the whole database into one timestamped file that `restore` reads back."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from smpinfo.backups import back_up, describe_counts, shown_path


class Command(BaseCommand):
    help = (
        "Save a copy of the whole site's content (articles, side effects, comments, accounts) "
        "into one dated file in backups/, safe to run while the site is up. Bring it back "
        "with `manage.py restore FILE` (or `make restore FILE=...`)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            default=str(Path(settings.BASE_DIR) / "backups"),
            help="Folder for the backup file (created if missing). Default: backups/ in the project.",
        )

    def handle(self, *args, output_dir, **options):
        path, counts = back_up(output_dir)
        self.stdout.write(self.style.SUCCESS(f"Backed up to {shown_path(path)}"))
        self.stdout.write(f"It holds {describe_counts(counts)}.")
        self.stdout.write(f"Restore it with: manage.py restore {shown_path(path)}")
