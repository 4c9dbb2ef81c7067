"""Replace the database's content with a backup made by `manage.py backup`."""

import sqlite3
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from articles import page_cache
from articles.management.commands.backup import (
    KIND_NAMES,
    database_counts,
    database_kind,
    describe_counts,
    file_kind,
    run_postgres_tool,
    shown_path,
    sqlite_file_counts,
)


class Command(BaseCommand):
    help = (
        "Put back the site's content from a backup file made by `manage.py backup`: everything "
        "in the database (articles, side effects, comments, accounts) is replaced by what the "
        "backup holds. Asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The backup file, e.g. backups/smpinfo-20261125-163000.sqlite3.")
        parser.add_argument(
            "--yes",
            "--no-input",
            "--noinput",
            dest="yes",
            action="store_true",
            help="Do not ask for confirmation (for scripts).",
        )

    def handle(self, *args, file, yes, **options):
        kind = database_kind()
        path = Path(file)
        self.check_file(path, kind)
        if not yes and not self.confirmed(path):
            self.stdout.write("Restore cancelled; the database was not changed.")
            return
        if kind == "sqlite":
            self.restore_sqlite(path)
        else:
            self.restore_postgres(path)
        # Readers' cached pages were built from the old content.
        page_cache.article_pages_changed()
        self.stdout.write(self.style.SUCCESS(f"Restored {shown_path(path)}"))
        self.stdout.write(f"The database now holds {describe_counts(database_counts())}.")
        self.warn_about_migrations()

    def check_file(self, path, kind):
        if not path.exists():
            raise CommandError(f"No backup file at {path}.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file; give the path of a backup file made by `backup`.")
        found = file_kind(path)
        if found is None:
            raise CommandError(
                f"{path} is not a backup made by `manage.py backup` (neither an SQLite database "
                f"nor a pg_dump custom-format archive)."
            )
        if found != kind:
            raise CommandError(
                f"{path} is a {KIND_NAMES[found]} backup, but this site's database is "
                f"{KIND_NAMES[kind]}: it cannot be restored here."
            )
        if kind == "sqlite":
            self.check_sqlite_file(path)

    def check_sqlite_file(self, path):
        """Refuse a damaged file or another application's database before touching ours."""
        try:
            backup = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
            try:
                if backup.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise CommandError(f"{path} is damaged (SQLite's integrity check failed).")
                sqlite_file_counts(backup)
            finally:
                backup.close()
        except sqlite3.Error as error:
            raise CommandError(f"{path} is not an smpinfo backup ({error}).") from error

    def confirmed(self, path):
        if sys.stdin is None or not sys.stdin.isatty():
            raise CommandError(
                "Restoring replaces everything in the database. Run it in a terminal to confirm, "
                "or add --yes to go ahead without asking."
            )
        name = connection.settings_dict["NAME"]
        self.stdout.write(
            f"This replaces everything in the database {name} (now {describe_counts(database_counts())}) "
            f"with the content of {shown_path(path)}."
        )
        return input("Type 'yes' to continue: ").strip().lower() == "yes"

    def restore_sqlite(self, path):
        # A file database gets a fresh connection; an in-memory one (the tests') cannot be
        # closed without losing it, so its open connection receives the copy.
        if connection.in_atomic_block:
            raise CommandError("restore cannot run inside a database transaction.")
        connection.close()
        connection.ensure_connection()
        try:
            backup = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
            try:
                backup.backup(connection.connection)
            finally:
                backup.close()
        except sqlite3.Error as error:
            raise CommandError(f"The SQLite restore failed: {error}") from error

    def restore_postgres(self, path):
        # pg_restore drops and recreates the tables; Django's own idle connections would
        # otherwise hold it up (and keep stale cached state).
        connections.close_all()
        run_postgres_tool(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            connection.settings_dict["NAME"],
            str(path),
        )

    def warn_about_migrations(self):
        """A backup from an older version of the site needs `migrate` before it is served."""
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {len(pending)} database migration(s) of this version: "
                    f"run `manage.py migrate` (make run does it) before serving the site."
                )
            )
        unknown = set(executor.loader.applied_migrations) - set(executor.loader.graph.nodes)
        if unknown:
            self.stdout.write(
                self.style.WARNING(
                    "The backup was made by a newer version of smpinfo than this one; update the "
                    "code before serving the site."
                )
            )
