"""Back up the whole database into one timestamped file that `restore` reads back.

SQLite: a consistent copy made with SQLite's online backup API, safe while the site
runs. PostgreSQL: `pg_dump --format=custom`. The helpers here are shared with `restore`.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from articles.models import Article, SideEffect
from comments.models import Comment

SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_MAGIC = b"PGDMP"  # pg_dump's custom (archive) format
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
COUNTED = [("articles", Article), ("side effects", SideEffect), ("comments", Comment)]


def database_kind():
    """'sqlite' or 'postgresql': the configured database, or a clear refusal for any other."""
    if connection.vendor not in KIND_NAMES:
        raise CommandError(
            f"Backups support SQLite and PostgreSQL; this site's database is {connection.vendor}."
        )
    return connection.vendor


def file_kind(path):
    """'sqlite', 'postgresql' or None, from the first bytes of the file (not its name)."""
    with open(path, "rb") as handle:
        start = handle.read(len(SQLITE_MAGIC))
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(POSTGRES_MAGIC):
        return "postgresql"
    return None


def describe_counts(counts):
    """'3 articles, 9 side effects, 4 comments'."""
    return ", ".join(f"{number:,} {label}" for label, number in counts.items())


def database_counts():
    return {label: model.objects.count() for label, model in COUNTED}


def sqlite_file_counts(database):
    """Count the rows of an open sqlite3 connection's smpinfo tables (a backup file)."""
    return {
        label: database.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"').fetchone()[0]
        for label, model in COUNTED
    }


def postgres_command(program, *arguments):
    """`program` (pg_dump, pg_restore) with the connection settings of the default database.

    Returns (argv, environment). The password goes through PGPASSWORD, never the command
    line; --no-password makes a wrong or missing one fail at once instead of prompting.
    """
    executable = shutil.which(program)
    if executable is None:
        raise CommandError(
            f"{program} was not found. Install the PostgreSQL client tools (the package is "
            f"usually called postgresql-client), in a version at least as new as the server."
        )
    database = connection.settings_dict
    options = database.get("OPTIONS") or {}
    argv = [executable, "--no-password"]
    if database.get("HOST"):
        argv += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        argv += ["--port", str(database["PORT"])]
    if database.get("USER"):
        argv += ["--username", str(database["USER"])]
    argv += arguments
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    for option, variable in [
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ]:
        if options.get(option):
            environment[variable] = str(options[option])
    return argv, environment


def run_postgres_tool(program, *arguments):
    """Run pg_dump or pg_restore; a failure becomes a CommandError carrying its stderr."""
    argv, environment = postgres_command(program, *arguments)
    result = subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        details = result.stderr.strip() or result.stdout.strip() or "(no message)"
        raise CommandError(f"{program} failed (exit status {result.returncode}):\n{details}")
    return result


def shown_path(path):
    """The path relative to the current directory when it is inside it, so it can be pasted."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
        kind = database_kind()
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        suffix = SQLITE_SUFFIX if kind == "sqlite" else POSTGRES_SUFFIX
        path = self.new_path(folder, suffix)
        # Written under a hidden name and renamed when complete: a failed or interrupted
        # backup never leaves a file that looks like a good one. The file holds commenters'
        # email and IP addresses, so only its owner may read it.
        partial = path.with_name(f".{path.name}.partial")
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        try:
            backup = self.backup_sqlite if kind == "sqlite" else self.backup_postgres
            counts = backup(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS(f"Backed up to {shown_path(path)}"))
        self.stdout.write(f"It holds {describe_counts(counts)}.")
        self.stdout.write(f"Restore it with: manage.py restore {shown_path(path)}")

    def new_path(self, folder, suffix):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        path = folder / f"smpinfo-{stamp}{suffix}"
        number = 2
        while path.exists():
            path = folder / f"smpinfo-{stamp}-{number}{suffix}"
            number += 1
        return path

    def backup_sqlite(self, path):
        """Copy the live database with the backup API: one consistent snapshot, while
        the site's workers keep reading and writing (the database runs in WAL mode)."""
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
            # A self-contained single file, whatever the live database's journal mode.
            target.execute("PRAGMA journal_mode=DELETE")
            counts = sqlite_file_counts(target)
        except sqlite3.Error as error:
            raise CommandError(f"The SQLite backup failed: {error}") from error
        finally:
            target.close()
        return counts

    def backup_postgres(self, path):
        database = connection.settings_dict["NAME"]
        run_postgres_tool(
            "pg_dump", "--format=custom", "--no-owner", "--file", str(path), "--dbname", database
        )
        return database_counts()
