"""Back up the whole database into one file, and put such a file back.

SQLite: a consistent copy made with SQLite's online backup API, safe while the site
runs. PostgreSQL: `pg_dump --format=custom`, read back by `pg_restore`. The `backup` and
`restore` commands parse their arguments, ask and print; the work is done here.
"""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from articles.models import Article, SideEffect, article_pages_changed
from comments.models import Comment

SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_MAGIC = b"PGDMP"  # pg_dump's custom (archive) format
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
COUNTED = [("articles", Article), ("side effects", SideEffect), ("comments", Comment)]


# What a backup holds ----------------------------------------------------------------


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


def shown_path(path):
    """The path relative to the current directory when it is inside it, so it can be pasted."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# PostgreSQL's client tools ------------------------------------------------------------


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


# Backing up -----------------------------------------------------------------------------


def back_up(folder):
    """Write a new dated backup file into `folder`; return (its path, the counts it holds)."""
    kind = database_kind()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = new_backup_path(folder, SQLITE_SUFFIX if kind == "sqlite" else POSTGRES_SUFFIX)
    # Written under a hidden name and renamed when complete: a failed or interrupted
    # backup never leaves a file that looks like a good one. The file holds commenters'
    # email and IP addresses, so only its owner may read it.
    partial = path.with_name(f".{path.name}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        counts = back_up_sqlite(partial) if kind == "sqlite" else back_up_postgres(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path, counts


def new_backup_path(folder, suffix):
    """smpinfo-<date>-<time><suffix>, numbered when a backup of the same second exists."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = folder / f"smpinfo-{stamp}{suffix}"
    number = 2
    while path.exists():
        path = folder / f"smpinfo-{stamp}-{number}{suffix}"
        number += 1
    return path


def back_up_sqlite(path):
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


def back_up_postgres(path):
    database = connection.settings_dict["NAME"]
    run_postgres_tool("pg_dump", "--format=custom", "--no-owner", "--file", str(path), "--dbname", database)
    return database_counts()


# Restoring ------------------------------------------------------------------------------


def check_backup_file(path):
    """Refuse, with the reason, a file that this site's database cannot be restored from."""
    kind = database_kind()
    path = Path(path)
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
        check_sqlite_file(path)


def check_sqlite_file(path):
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


def restore(path):
    """Replace everything in the database with the content of the backup file at `path`.

    Call check_backup_file(path) first: this does not check the file again.
    """
    path = Path(path)
    if database_kind() == "sqlite":
        restore_sqlite(path)
    else:
        restore_postgres(path)
    # Readers' cached pages were built from the old content.
    article_pages_changed()


def restore_sqlite(path):
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


def restore_postgres(path):
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


def migration_state():
    """(migrations this version has that the database lacks, whether the database has
    migrations this version does not know): a restored backup from an older version needs
    `migrate`, one from a newer version needs newer code."""
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    unknown = set(executor.loader.applied_migrations) - set(executor.loader.graph.nodes)
    return len(pending), bool(unknown)
