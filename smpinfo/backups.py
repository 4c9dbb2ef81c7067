"""Back up the whole site, its database and its image files, into one archive, and put
such an archive back.

The archive is a tar file: the database (SQLite: a consistent copy made with SQLite's
online backup API, safe while the site runs; PostgreSQL: `pg_dump --format=custom`, read
back by `pg_restore`), every stored file of the image library under media/, read through
the default storage (local disk or object storage alike), and manifest.json, which lists
each member with its size and SHA-256 so that a damaged archive is refused before anything
is replaced. Backups made before the images app, a bare .sqlite3 or .pgdump file, are still
restored (the database only). The `backup` and `restore` commands parse their arguments,
ask and print; the work is done here.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from articles.models import Article, SideEffect, article_pages_changed
from comments.models import Comment
from images.models import Image

ARCHIVE_SUFFIX = ".tar"
SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_MAGIC = b"PGDMP"  # pg_dump's custom (archive) format
TAR_MAGIC_OFFSET = 257  # "ustar" in a POSIX tar file's first header
ARCHIVE_FORMAT = "smpinfo-backup"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_FOLDER = "media/"
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
    """'archive' (a tar file, as `backup` writes), or 'sqlite' or 'postgresql' (a bare
    database file, as it wrote before it carried the images), or None: from the first bytes
    of the file, not its name."""
    with open(path, "rb") as handle:
        start = handle.read(512)
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(POSTGRES_MAGIC):
        return "postgresql"
    if start[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "archive"
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


def stored_file_names(images):
    """Every file in the storage that `images` name, each once (a rendition may be the
    clean copy itself)."""
    return sorted({name for image in images for name in image.file_names() if name})


def sqlite_file_images(database):
    """The images of an open sqlite3 connection (a backup file), enough to name their files."""
    table = Image._meta.db_table
    return [
        Image(file=file, renditions=json.loads(renditions or "[]"))
        for file, renditions in database.execute(f'SELECT "file", "renditions" FROM "{table}"')
    ]


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
    """Write a new dated backup archive into `folder`.

    Returns (its path, the counts it holds, the names of files the database names that the
    storage no longer had: an image deleted while the backup ran, or a file removed by hand).
    """
    kind = database_kind()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = new_backup_path(folder, ARCHIVE_SUFFIX)
    # Written under hidden names and renamed when complete: a failed or interrupted
    # backup never leaves a file that looks like a good one. The archive holds commenters'
    # email and IP addresses, so only its owner may read it (and the dump on its way in).
    partial = path.with_name(f".{path.name}.partial")
    dump = path.with_name(f".{path.name}.database.partial")
    for private in (partial, dump):
        os.close(os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        if kind == "sqlite":
            counts, names = back_up_sqlite(dump)
        else:
            counts, names = back_up_postgres(dump)
        files, missing = write_archive(partial, kind, dump, names, counts)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        dump.unlink(missing_ok=True)
    return path, {**counts, "stored image files": files}, missing


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
    the site's workers keep reading and writing (the database runs in WAL mode).

    Returns its counts and the files its images name, read from the copy itself: exactly
    the files the restored database will need."""
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        # A self-contained single file, whatever the live database's journal mode.
        target.execute("PRAGMA journal_mode=DELETE")
        counts = sqlite_file_counts(target)
        images = sqlite_file_images(target)
    except sqlite3.Error as error:
        raise CommandError(f"The SQLite backup failed: {error}") from error
    finally:
        target.close()
    return {**counts, "images": len(images)}, stored_file_names(images)


def back_up_postgres(path):
    """pg_dump, and the files its images name, from one snapshot of the database: the
    transaction that lists the files exports its snapshot, and pg_dump dumps that one."""
    if connection.in_atomic_block:
        raise CommandError("backup cannot run inside a database transaction.")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            [snapshot] = cursor.fetchone()
        images = list(Image.objects.only("file", "renditions"))
        counts = {**database_counts(), "images": len(images)}
        run_postgres_tool(
            "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--snapshot={snapshot}",
            "--file",
            str(path),
            "--dbname",
            connection.settings_dict["NAME"],
        )
    return counts, stored_file_names(images)


def write_archive(path, kind, dump, names, counts):
    """The backup archive at `path`: the database dump, the stored files `names` (as the
    default storage holds them now) and the manifest, last, once every checksum is known.

    Returns (how many files it holds, the names the storage did not have)."""
    files, missing = [], []
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        with open(dump, "rb") as handle:
            database = {"kind": kind, "member": DATABASE_MEMBERS[kind], **checksum(handle)}
            handle.seek(0)
            archive.addfile(member_info(database["member"], database["size"]), handle)
        for name in names:
            try:
                with default_storage.open(name, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                missing.append(name)
                continue
            except Exception as error:  # object storage down, a disk error: no half backup
                raise CommandError(
                    f"Reading {name} from the storage failed ({type(error).__name__}: {error}); "
                    f"no backup was written."
                ) from error
            archive.addfile(member_info(MEDIA_FOLDER + name, len(data)), io.BytesIO(data))
            files.append({"name": name, **data_checksum(data)})
        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "created_at": timezone.now().isoformat(),
            "database": database,
            "counts": counts,
            "files": files,
            "missing": missing,
        }
        content = json.dumps(manifest, indent=1).encode()
        archive.addfile(member_info(MANIFEST, len(content)), io.BytesIO(content))
    return len(files), missing


def checksum(handle):
    """{"size", "sha256"} of what `handle` (a file opened for reading) holds."""
    digest = hashlib.file_digest(handle, "sha256")
    return {"size": os.fstat(handle.fileno()).st_size, "sha256": digest.hexdigest()}


def data_checksum(data):
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def member_info(name, size):
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    return info


# Restoring ------------------------------------------------------------------------------


def check_backup_file(path):
    """Refuse, with the reason, a file that this site cannot be restored from."""
    kind = database_kind()
    path = Path(path)
    if not path.exists():
        raise CommandError(f"No backup file at {path}.")
    if not path.is_file():
        raise CommandError(f"{path} is not a file; give the path of a backup file made by `backup`.")
    found = file_kind(path)
    if found is None:
        raise CommandError(
            f"{path} is not a backup made by `manage.py backup` (neither a backup archive, "
            f"nor an SQLite database or a pg_dump custom-format archive)."
        )
    if found == "archive":
        check_archive(path, kind)
        return
    check_database_kind(path, found, kind)
    if kind == "sqlite":
        check_sqlite_file(path)


def check_database_kind(path, found, kind):
    if found != kind:
        raise CommandError(
            f"{path} is a {KIND_NAMES[found]} backup, but this site's database is "
            f"{KIND_NAMES[kind]}: it cannot be restored here."
        )


def check_archive(path, kind):
    """Refuse an archive that is not one of ours, is of the other database, or is damaged
    (truncated, or any member's bytes not those the manifest lists), before anything is
    replaced: every member is read and its checksum compared."""
    try:
        with tarfile.open(path, "r:") as archive:
            manifest = read_manifest(path, archive)
            check_database_kind(path, manifest["database"]["kind"], kind)
            with tempfile.TemporaryDirectory() as scratch:
                database = extract_database(path, archive, manifest, Path(scratch))
                if kind == "sqlite":
                    check_sqlite_file(database)
            for entry in manifest["files"]:
                read_member(path, archive, MEDIA_FOLDER + entry["name"], entry)
    except (tarfile.TarError, EOFError) as error:
        raise CommandError(f"{path} is damaged: the archive cannot be read ({error}).") from error


def read_manifest(path, archive):
    """The archive's manifest.json, checked for what restore relies on."""
    try:
        handle = archive.extractfile(MANIFEST)
    except KeyError:
        if any(member.name in DATABASE_MEMBERS.values() for member in archive.getmembers()):
            raise CommandError(
                f"{path} is damaged or incomplete: its list of contents ({MANIFEST}) is missing."
            ) from None
        raise CommandError(
            f"{path} is not a backup made by `manage.py backup` (a tar file of something else)."
        ) from None
    try:
        manifest = json.loads(handle.read())
        valid = (
            manifest.get("format") == ARCHIVE_FORMAT
            and isinstance(manifest.get("version"), int)
            and manifest["database"]["kind"] in KIND_NAMES
            and manifest["database"]["member"] == DATABASE_MEMBERS[manifest["database"]["kind"]]
            and all(safe_name(entry["name"]) for entry in manifest["files"])
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise CommandError(f"{path} is damaged: its list of contents ({MANIFEST}) cannot be read.")
    if manifest["version"] > ARCHIVE_VERSION:
        raise CommandError(
            f"{path} was made by a newer version of smpinfo (backup format {manifest['version']}); "
            f"update the code to restore it."
        )
    return manifest


def safe_name(name):
    """Whether a name of the manifest is one a storage may be given: relative, inside it."""
    if not isinstance(name, str) or not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    return ".." not in PurePosixPath(name).parts


def read_member(path, archive, member, entry):
    """The bytes of `member`, refused unless they are the size and digest the manifest lists."""
    try:
        handle = archive.extractfile(member)
    except KeyError:
        raise CommandError(f"{path} is damaged: {member} is missing from it.") from None
    data = handle.read()
    if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise CommandError(f"{path} is damaged: {member} is not the file that was backed up.")
    return data


def extract_database(path, archive, manifest, folder):
    """The database dump of the archive, checked, as a private file in `folder` (copied in
    chunks: a database may be far larger than any image)."""
    entry = manifest["database"]
    target = folder / entry["member"]
    try:
        source = archive.extractfile(entry["member"])
    except KeyError:
        raise CommandError(f"{path} is damaged: {entry['member']} is missing from it.") from None
    digest = hashlib.sha256()
    with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            handle.write(chunk)
    if target.stat().st_size != entry["size"] or digest.hexdigest() != entry["sha256"]:
        raise CommandError(f"{path} is damaged: {entry['member']} is not the file that was backed up.")
    return target


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
    """Replace everything in the database with the content of the backup at `path`, and
    write the image files it carries back into the default storage.

    Files go first, as uploads do (images.library): a storage that fails leaves the database
    as it was, and files no row names harm nothing. Files the storage has that the backup
    does not (images added since) stay, unnamed by any row. Returns (files written, files
    the storage already had), or None for a bare database file, which carries no files.

    Call check_backup_file(path) first: this does not check the file again.
    """
    path = Path(path)
    kind = database_kind()
    restored_files = None
    if file_kind(path) == "archive":
        with tarfile.open(path, "r:") as archive, tempfile.TemporaryDirectory() as scratch:
            manifest = read_manifest(path, archive)
            restored_files = restore_files(path, archive, manifest)
            restore_database(kind, extract_database(path, archive, manifest, Path(scratch)))
    else:
        restore_database(kind, path)
    # Readers' cached pages were built from the old content.
    article_pages_changed()
    return restored_files


def restore_files(path, archive, manifest):
    """Write the archive's files into the default storage under their own names. A name is
    a digest of the content, so a file the storage already has with that name and size is
    the same file, and is left as it is."""
    written = present = 0
    for entry in manifest["files"]:
        name = entry["name"]
        try:
            if default_storage.exists(name):
                if default_storage.size(name) == entry["size"]:
                    present += 1
                    continue
                default_storage.delete(name)
            data = read_member(path, archive, MEDIA_FOLDER + name, entry)
            stored = default_storage.save(name, ContentFile(data))
        except CommandError:
            raise
        except Exception as error:  # object storage down, disk full
            raise CommandError(
                f"Writing {name} to the storage failed ({type(error).__name__}: {error}). The database "
                f"was not changed; run the restore again once the storage answers."
            ) from error
        if stored != name:
            default_storage.delete(stored)
            raise CommandError(f"The storage kept {name} as {stored}; the database was not changed.")
        written += 1
    return written, present


def restore_database(kind, path):
    if kind == "sqlite":
        restore_sqlite(path)
    else:
        restore_postgres(path)


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
