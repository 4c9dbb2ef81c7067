"""Replace the database's content with a backup made by `manage.py backup`, and write the
image files it carries back into the storage."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from smpinfo.backups import (
    check_backup_file,
    database_counts,
    describe_counts,
    migration_state,
    restore,
    shown_path,
)


class Command(BaseCommand):
    help = (
        "Put back the site's content from a backup made by `manage.py backup`: everything "
        "in the database (articles, side effects, comments, accounts) is replaced by what the "
        "backup holds, and the image files it carries are written back into the storage. "
        "Asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            help="The backup archive, e.g. backups/smpinfo-20261202-163000.tar (or an older, bare "
            ".sqlite3 or .pgdump file).",
        )
        parser.add_argument(
            "--yes",
            "--no-input",
            "--noinput",
            dest="yes",
            action="store_true",
            help="Do not ask for confirmation (for scripts).",
        )

    def handle(self, *args, file, yes, **options):
        check_backup_file(file)
        if not yes and not self.confirmed(file):
            self.stdout.write("Restore cancelled; the database was not changed.")
            return
        restored_files = restore(file)
        self.stdout.write(self.style.SUCCESS(f"Restored {shown_path(file)}"))
        self.stdout.write(f"The database now holds {describe_counts(database_counts())}.")
        if restored_files is None:
            self.stdout.write(
                "The backup is a database file alone: the stored image files were left as they are."
            )
        else:
            written, present = restored_files
            self.stdout.write(
                f"{written:,} image file(s) written back to the storage, {present:,} already there."
            )
        self.warn_about_migrations()

    def confirmed(self, path):
        if sys.stdin is None or not sys.stdin.isatty():
            raise CommandError(
                "Restoring replaces everything in the database. Run it in a terminal to confirm, "
                "or add --yes to go ahead without asking."
            )
        name = connection.settings_dict["NAME"]
        self.stdout.write(
            f"This replaces everything in the database {name} (now {describe_counts(database_counts())}) "
            f"with the content of {shown_path(path)}, and writes the image files it carries into the storage."
        )
        return input("Type 'yes' to continue: ").strip().lower() == "yes"

    def warn_about_migrations(self):
        """A backup from an older version of the site needs `migrate` before it is served."""
        pending, unknown = migration_state()
        if pending:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {pending} database migration(s) of this version: "
                    f"run `manage.py migrate` (make run does it) before serving the site."
                )
            )
        if unknown:
            self.stdout.write(
                self.style.WARNING(
                    "The backup was made by a newer version of smpinfo than this one; update the "
                    "code before serving the site."
                )
            )
