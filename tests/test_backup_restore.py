"""backup and restore: every article, side effect and comment comes back exactly, and so do
the image library's files, carried in the same archive as the database.

Transactional tests: pg_restore runs in another process and must see committed rows,
and a restore cannot run inside the test's transaction on either database.
"""

import io
import json
import re
import sqlite3
import sys
import tarfile
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from articles.models import Article, SideEffect
from comments.models import Comment
from images.models import Image
from smpinfo import backups
from tests.commands import call as run
from tests.factories import ArticleFactory, CommentFactory, UserFactory
from tests.pictures import library_image

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it"
)


def all_rows():
    """Every column of every article, side effect and comment, in primary-key order."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (Article, SideEffect, Comment)
    }


@pytest.fixture
def content():
    """The seed articles, an article with three side effects and comments of every kind."""
    call_command("seed_content", stdout=StringIO())
    article = ArticleFactory(side_effects=3, author=UserFactory(username="writer"))
    CommentFactory.create_batch(2, article=article)
    CommentFactory(
        article=article,
        status=Comment.Status.REJECTED,
        moderated_by=UserFactory(username="mod"),
        moderated_at=timezone.now(),
        ip_address=None,
    )
    CommentFactory(article=Article.objects.get(slug="what-is-scalp-micropigmentation"))
    return article


@pytest.fixture
def backup_file(content, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    return path


def test_restore_brings_back_every_article_side_effect_and_comment(content, tmp_path, client):
    before = all_rows()
    assert (len(before["Article"]), len(before["SideEffect"]), len(before["Comment"])) == (3, 9, 4)

    output = run("backup", "--output-dir", str(tmp_path))

    [path] = tmp_path.iterdir()
    assert re.fullmatch(r"smpinfo-\d{8}-\d{6}\.tar", path.name)
    assert path.name in output
    assert "3 articles, 9 side effects, 4 comments" in output

    # Lose an article with its side effects and comments, edit another, add a comment.
    content.delete()
    seeded = Article.objects.get(slug="what-is-scalp-micropigmentation")
    seeded.title = "Edited after the backup"
    seeded.save()
    CommentFactory(article=seeded, body="Written after the backup.")
    assert "Edited after the backup" in client.get(seeded.get_absolute_url()).content.decode()
    assert all_rows() != before

    output = run("restore", str(path), "--yes")

    assert all_rows() == before
    assert "Restored" in output
    assert "3 articles, 9 side effects, 4 comments" in output
    # Readers see the restored content at once, not a page cached before the restore.
    page = client.get(seeded.get_absolute_url()).content.decode()
    assert "What is scalp micropigmentation?" in page
    assert "Edited after the backup" not in page
    # The site carries on: new rows get fresh primary keys.
    new_comment = CommentFactory(article=Article.objects.get(slug=content.slug))
    assert new_comment.pk > max(row[0] for row in before["Comment"])


def test_the_backup_is_one_private_archive_holding_the_database_of_its_kind(backup_file):
    assert backup_file.stat().st_mode & 0o077 == 0  # commenters' emails: for the owner only
    assert backups.file_kind(backup_file) == "archive"
    with tarfile.open(backup_file) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        database = archive.extractfile(manifest["database"]["member"]).read()
    assert manifest["database"]["kind"] == connection.vendor
    assert database.startswith({"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}[connection.vendor])


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(content, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    run("backup", "--output-dir", str(tmp_path))
    assert len([path for path in tmp_path.iterdir() if path.name.endswith(".tar")]) == 2
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"No backup file at .*missing\.sqlite3"):
        run("restore", str(tmp_path / "missing.sqlite3"), "--yes")


def test_restore_refuses_the_wrong_kind_of_backup(content, tmp_path):
    before = all_rows()
    if connection.vendor == "sqlite":
        wrong = tmp_path / "smpinfo-20260101-000000.pgdump"
        wrong.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
        message = "is a PostgreSQL backup, but this site's database is SQLite"
    else:
        wrong = tmp_path / "smpinfo-20260101-000000.sqlite3"
        sqlite3.connect(wrong).execute("CREATE TABLE t (x)").connection.close()
        message = "is a SQLite backup, but this site's database is PostgreSQL"

    with pytest.raises(CommandError, match=re.escape(message)):
        run("restore", str(wrong), "--yes")

    assert all_rows() == before


def test_restore_refuses_a_file_that_is_not_a_backup(content, tmp_path):
    before = all_rows()
    notes = tmp_path / "notes.sqlite3"
    notes.write_text("Remember to back up the site.\n")

    with pytest.raises(CommandError, match=re.escape("is not a backup made by `manage.py backup`")):
        run("restore", str(notes), "--yes")

    assert all_rows() == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backups are checked before restoring")
def test_restore_refuses_another_applications_sqlite_database(content, tmp_path):
    before = all_rows()
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()

    with pytest.raises(CommandError, match="is not an smpinfo backup"):
        run("restore", str(other), "--yes")

    assert all_rows() == before


class FakeTerminal(StringIO):
    def isatty(self):
        return True


def test_restore_without_yes_refuses_when_nobody_can_confirm(backup_file, monkeypatch):
    Comment.objects.all().delete()
    monkeypatch.setattr(sys, "stdin", StringIO())

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(backup_file))

    assert not Comment.objects.exists()


def test_restore_asks_first_and_does_nothing_unless_told_yes(backup_file, monkeypatch):
    Comment.objects.all().delete()
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    assert "Restore cancelled" in run("restore", str(backup_file))
    assert not Comment.objects.exists()

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert "Restored" in run("restore", str(backup_file))
    assert Comment.objects.count() == 4


@on_postgresql
def test_backup_refuses_clearly_without_pg_dump(content, tmp_path, monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda program: None)

    with pytest.raises(CommandError, match="pg_dump was not found"):
        run("backup", "--output-dir", str(tmp_path))

    assert list(tmp_path.iterdir()) == []


@on_postgresql
def test_backup_reports_pg_dump_errors_and_leaves_no_file(content, tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "no_such_database")

    with pytest.raises(CommandError, match=r'(?s)pg_dump failed.*"no_such_database" does not exist'):
        run("backup", "--output-dir", str(tmp_path))

    assert list(tmp_path.iterdir()) == []


# Image files ----------------------------------------------------------------------------


def stored_bytes(names):
    return {name: default_storage.open(name).read() for name in names}


@pytest.fixture
def illustrated():
    """A published article whose featured image is in the library, with the image."""
    image = library_image()
    article = ArticleFactory(title="Illustrated article", featured_image=image)
    article.save()  # renders the page's markup with the picture
    return article, image


def test_backup_carries_the_image_files_and_restore_writes_them_back(illustrated, tmp_path, client):
    article, image = illustrated
    names = sorted(set(image.file_names()))
    files = stored_bytes(names)

    output = run("backup", "--output-dir", str(tmp_path))

    assert f"1 images, {len(names)} stored image files" in output
    [path] = tmp_path.iterdir()
    with tarfile.open(path) as archive:
        assert set(archive.getnames()) == {
            "manifest.json",
            f"database.{'sqlite3' if connection.vendor == 'sqlite' else 'pgdump'}",
            *(f"media/{name}" for name in names),
        }

    # Lose the article, the image and (once the delete commits) its files.
    article.delete()
    image.delete()
    assert not any(default_storage.exists(name) for name in names)

    output = run("restore", str(path), "--yes")

    assert f"{len(names)} image file(s) written back to the storage, 0 already there" in output
    assert Image.objects.get().file_names() == image.file_names()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "<picture>" in page
    assert f"/media/{image.largest()['name']}" in page
    for name in names:
        response = client.get(f"/media/{name}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == files[name]

    # Restoring again finds every file in place and writes none.
    assert f"0 image file(s) written back to the storage, {len(names)} already there" in run(
        "restore", str(path), "--yes"
    )


def test_a_file_missing_from_the_storage_is_named_and_the_rest_is_backed_up(illustrated, tmp_path):
    _, image = illustrated
    lost = image.renditions[0]["name"]
    default_storage.delete(lost)

    output = run("backup", "--output-dir", str(tmp_path))

    assert f"1 file(s) that images name were not in the storage, so the backup lacks them: {lost}" in output
    [path] = tmp_path.iterdir()
    with tarfile.open(path) as archive:
        assert f"media/{lost}" not in archive.getnames()
        assert json.load(archive.extractfile("manifest.json"))["missing"] == [lost]
    assert "Restored" in run("restore", str(path), "--yes")


def test_restore_still_accepts_a_bare_database_file_and_leaves_the_files_alone(illustrated, tmp_path):
    """Backups made before they carried the images: one .sqlite3 or .pgdump file."""
    _, image = illustrated
    bare = tmp_path / f"smpinfo-20261101-120000{'.sqlite3' if connection.vendor == 'sqlite' else '.pgdump'}"
    if connection.vendor == "sqlite":
        backups.back_up_sqlite(bare)
    else:
        backups.back_up_postgres(bare)
    assert backups.file_kind(bare) == connection.vendor
    Comment.objects.all().delete()
    files = stored_bytes(image.file_names())
    CommentFactory(body="Written after the backup.")

    output = run("restore", str(bare), "--yes")

    assert "Restored" in output
    assert "the stored image files were left as they are" in output
    assert not Comment.objects.filter(body="Written after the backup.").exists()
    assert stored_bytes(image.file_names()) == files


def rewrite(path, change):
    """Write the archive at `path` again, each member's bytes passed through
    change(name, data), which returns new bytes or None to leave the member out."""
    with tarfile.open(path) as archive:
        members = [(member.name, archive.extractfile(member).read()) for member in archive.getmembers()]
    with tarfile.open(path, "w") as archive:
        for name, data in members:
            data = change(name, data)
            if data is not None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))


def flip_a_byte_of_a_rendition(name, data):
    return data[:100] + bytes([data[100] ^ 0xFF]) + data[101:] if name.endswith("-480.webp") else data


def flip_a_byte_of_the_database(name, data):
    return data[:5000] + bytes([data[5000] ^ 0xFF]) + data[5001:] if name.startswith("database.") else data


def drop_the_manifest(name, data):
    return None if name == "manifest.json" else data


def claim_a_newer_format(name, data):
    return json.dumps({**json.loads(data), "version": 99}).encode() if name == "manifest.json" else data


def name_a_file_outside_the_storage(name, data):
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["files"][0]["name"] = "../../smpinfo/settings.py"
    return json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            flip_a_byte_of_a_rendition,
            r"is damaged: media/images/\w+-480\.webp is not the file that was backed up",
        ),
        (flip_a_byte_of_the_database, r"is damaged: database\.\w+ is not the file that was backed up"),
        (drop_the_manifest, r"is damaged or incomplete: its list of contents \(manifest\.json\) is missing"),
        (claim_a_newer_format, r"was made by a newer version of smpinfo \(backup format 99\)"),
        (
            name_a_file_outside_the_storage,
            r"is damaged: its list of contents \(manifest\.json\) cannot be read",
        ),
    ],
)
def test_restore_refuses_a_damaged_archive_and_changes_nothing(illustrated, tmp_path, damage, message):
    _, image = illustrated
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    rewrite(path, damage)
    Comment.objects.all().delete()
    CommentFactory(body="Written after the backup.")
    before, files = all_rows(), stored_bytes(image.file_names())
    for name in image.file_names():
        default_storage.delete(name)

    with pytest.raises(CommandError, match=message):
        run("restore", str(path), "--yes")

    assert all_rows() == before
    assert not any(default_storage.exists(name) for name in files)


def test_restore_refuses_a_truncated_archive_and_changes_nothing(illustrated, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a copy cut short
    before = all_rows()

    with pytest.raises(CommandError, match=r"is damaged"):
        run("restore", str(path), "--yes")

    assert all_rows() == before


def test_restore_refuses_a_tar_file_of_something_else(content, tmp_path):
    other = tmp_path / "photos.tar"
    with tarfile.open(other, "w") as archive:
        archive.addfile(tarfile.TarInfo("holiday.jpg"), io.BytesIO(b""))
    before = all_rows()

    with pytest.raises(CommandError, match=re.escape("is not a backup made by `manage.py backup`")):
        run("restore", str(other), "--yes")

    assert all_rows() == before


def test_restore_refuses_an_archive_of_the_other_database(content, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    other, member = (
        ("postgresql", "database.pgdump") if connection.vendor == "sqlite" else ("sqlite", "database.sqlite3")
    )

    def of_the_other_kind(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["database"].update(kind=other, member=member)
            return json.dumps(manifest).encode()
        return data

    rewrite(path, of_the_other_kind)

    with pytest.raises(
        CommandError, match=f"is a {backups.KIND_NAMES[other]} backup, but this site's database is"
    ):
        run("restore", str(path), "--yes")
