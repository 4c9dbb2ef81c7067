"""Back up the whole site, its database and its image files, into one timestamped archive
that `restore` reads back."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from smpinfo.backups import back_up, describe_counts, shown_path


class Command(BaseCommand):
    help = (
        "Save a copy of the whole site's content (articles, side effects, comments, accounts, "
        "and the files of the image library, from local disk or object storage) into one "
        "dated archive in backups/, safe to run while the site is up. Bring it back with "
        "`manage.py restore FILE` (or `make restore FILE=...`)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            default=str(Path(settings.BASE_DIR) / "backups"),
            help="Folder for the backup archive (created if missing). Default: backups/ in the project.",
        )

    def handle(self, *args, output_dir, **options):
        path, counts, missing = back_up(output_dir)
        self.stdout.write(self.style.SUCCESS(f"Backed up to {shown_path(path)}"))
        self.stdout.write(f"It holds {describe_counts(counts)}.")
        if missing:
            # An image deleted while the backup ran, or a file removed from the storage by hand.
            self.stdout.write(
                self.style.WARNING(
                    f"{len(missing)} file(s) that images name were not in the storage, so the backup "
                    f"lacks them: {', '.join(missing)}"
                )
            )
        self.stdout.write(f"Restore it with: manage.py restore {shown_path(path)}")
